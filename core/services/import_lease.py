"""One contact import per organization at a time, across processes: a lease row held for the
import's duration (Slack uploads through bot.import_pool, `spokebot campaign import-contacts`
here). A crashed import's lease runs out after LEASE."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from core.db import Database
from core.errors import Conflict
from core.services.campaigns import get_campaign
from core.timed_jobs.lease import release, try_acquire

LEASE = timedelta(hours=1)  # longer than any import


def lease_name(organization_id: int) -> str:
    return f"import:org:{organization_id}"


def acquire_import_lease(db: Database, organization_id: int) -> str | None:
    """The holder id when the organization had no import running, else None."""
    holder = uuid.uuid4().hex
    if try_acquire(db, lease_name(organization_id), holder, datetime.now(UTC), LEASE):
        return holder
    return None


def release_import_lease(db: Database, organization_id: int, holder: str) -> None:
    release(db, lease_name(organization_id), holder, datetime.now(UTC))


@contextmanager
def campaign_import_lease(db: Database, campaign_id: int) -> Iterator[None]:
    """Hold the campaign's organization's import lease; Conflict when an import is running."""
    with db.uow(read_only=True) as uow:
        organization_id = get_campaign(uow.session, campaign_id).organization_id
    holder = acquire_import_lease(db, organization_id)
    if holder is None:
        raise Conflict(
            "An import is already running for this campaign's organization (from Slack or "
            "another import-contacts); run this again when it has finished."
        )
    try:
        yield
    finally:
        release_import_lease(db, organization_id, holder)
