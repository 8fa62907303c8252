"""Whether the database answers, for health checks."""

from __future__ import annotations

from sqlalchemy import text

from core.db import Database


def database_answers(db: Database) -> bool:
    """For health checks: a round trip to the database."""
    try:
        with db.uow(read_only=True) as uow:
            uow.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not healthy"; the caller reports 503
        return False
