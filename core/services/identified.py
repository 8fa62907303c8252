"""Reading as the person a Slack request names: one read-only transaction in which the
identity is established and the work done, or one writing transaction when the identity
itself must be written (a new user, a new name)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from core.db import Database
from core.services.identity import Identity, identify_in, known_identity

T = TypeVar("T")


def read_as(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    work: Callable[[Session, Identity], T],
) -> T:
    """`work(session, identity)` in one transaction: read only unless the identity changed."""
    with db.uow(read_only=True) as uow:
        identity = known_identity(uow.session, slack_team_id, slack_user_id, name)
        if identity is not None:
            return work(uow.session, identity)
    with db.uow() as uow:
        identity = identify_in(uow.session, slack_team_id, slack_user_id, name)
        answer = work(uow.session, identity)
        uow.commit()
        return answer
