"""Job leases: with many bot processes on one database, each job runs once per tick.

A lease row per job works on SQLite and PostgreSQL alike. Taking it is one conditional UPDATE
(`... WHERE expires_at <= now`) whose row count says who won: on PostgreSQL a second process
waits on the row lock, re-checks the condition and updates nothing; on SQLite writers are
serialised by BEGIN IMMEDIATE. The lease is not given back after a run: it expires a little
before the next tick, so a process whose tick lands a few seconds after another's skips it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from core.db import Database
from core.models import JobLease

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def try_acquire(db: Database, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease `name` until now + ttl if it has expired; True when this caller holds it."""
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    with db.uow() as uow:
        session = uow.session
        # Create the row on first use; a concurrent creator makes this a no-op, not an error.
        session.execute(
            insert(JobLease)
            .values(name=name, holder="", expires_at=_EPOCH)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        taken = session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.expires_at <= now)
            .values(holder=holder, expires_at=now + ttl)
            .execution_options(synchronize_session=False)
        ).rowcount
        uow.commit()
        return taken == 1


def release(db: Database, name: str, holder: str, now: datetime) -> None:
    """Give the lease back early (only if still ours), e.g. when a run was refused."""
    with db.uow() as uow:
        uow.session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
