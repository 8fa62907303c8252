"""The durable inbox: Slack requests recorded before they are acknowledged, worked on after,
each exactly once by its Slack id, with retries and a dead-letter state.

`pending` (waiting, or backing off until `lease_until`) -> `running` (claimed by a worker
until `lease_until`; a worker that dies leaves it to be claimed again once that passes) ->
`done`, or `dead` after MAX_ATTEMPTS failures (`spokebot inbox list|retry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.errors import NotFound
from core.models import SlackInbox

PENDING, RUNNING, DONE, DEAD = "pending", "running", "done", "dead"
MAX_ATTEMPTS = 5
DEFAULT_LEASE = timedelta(seconds=60)
BACKOFF = timedelta(seconds=5)  # times the attempt number


@dataclass(frozen=True)
class InboxItem:
    id: int
    slack_id: str
    team_id: str
    kind: str
    payload: str
    status: str
    attempts: int
    last_error: str | None
    received_at: datetime


def _item(row: SlackInbox) -> InboxItem:
    return InboxItem(
        row.id,
        row.slack_id,
        row.team_id,
        row.kind,
        row.payload,
        row.status,
        row.attempts,
        row.last_error,
        row.received_at,
    )


def record(
    db: Database, slack_id: str, team_id: str, kind: str, payload: str, now: datetime | None = None
) -> int | None:
    """Store a request before its ack; its id, or None when Slack redelivered one already
    stored. Raises when the database can't take it (then the request must not be acked)."""
    with db.uow() as uow:
        row = SlackInbox(
            slack_id=slack_id[:128],
            team_id=team_id[:32],
            kind=kind[:32],
            payload=payload,
            status=PENDING,
            attempts=0,
            received_at=now or datetime.now(UTC),
        )
        uow.session.add(row)
        try:
            uow.commit()
        except IntegrityError:
            return None
        return row.id


def claim(
    db: Database,
    now: datetime | None = None,
    *,
    item_id: int | None = None,
    limit: int = 10,
    lease: timedelta = DEFAULT_LEASE,
) -> list[InboxItem]:
    """Claim items for this worker: pending ones whose back-off is over, and running ones
    whose worker's lease ran out (a dead process). Each claim is a compare-and-swap, so two
    workers never hold the same item."""
    now = now or datetime.now(UTC)
    ready = and_(
        SlackInbox.status.in_((PENDING, RUNNING)),
        or_(SlackInbox.lease_until.is_(None), SlackInbox.lease_until <= now),
    )
    ids_query = select(SlackInbox.id).where(ready).order_by(SlackInbox.id).limit(limit)
    if item_id is not None:
        ids_query = ids_query.where(SlackInbox.id == item_id)
    with db.uow(read_only=True) as uow:
        candidates = list(uow.session.scalars(ids_query))
    claimed: list[InboxItem] = []
    for candidate in candidates:
        with db.uow() as uow:
            won = uow.session.execute(
                update(SlackInbox)
                .where(SlackInbox.id == candidate, ready)
                .values(status=RUNNING, lease_until=now + lease, attempts=SlackInbox.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            uow.commit()
            if not won.rowcount:  # type: ignore[attr-defined]
                continue
            row = uow.session.get(SlackInbox, candidate)
            assert row is not None
            uow.session.refresh(row)
            claimed.append(_item(row))
    return claimed


def finish(db: Database, item_id: int, now: datetime | None = None) -> None:
    with db.uow() as uow:
        uow.session.execute(
            update(SlackInbox)
            .where(SlackInbox.id == item_id)
            .values(status=DONE, done_at=now or datetime.now(UTC), lease_until=None)
        )
        uow.commit()


def fail(db: Database, item_id: int, error: str, now: datetime | None = None) -> str:
    """A failed attempt: back off and retry, or dead after MAX_ATTEMPTS. The new status."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        row = uow.session.get(SlackInbox, item_id)
        if row is None:
            return DEAD
        row.last_error = error[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.status, row.lease_until = DEAD, None
        else:
            row.status, row.lease_until = PENDING, now + BACKOFF * row.attempts
        uow.commit()
        return row.status


def open_count(db: Database) -> int:
    with db.uow(read_only=True) as uow:
        return len(
            uow.session.scalars(
                select(SlackInbox.id).where(SlackInbox.status.in_((PENDING, RUNNING)))
            ).all()
        )


def list_items(db: Database, status: str | None = None, limit: int = 100) -> list[InboxItem]:
    """Newest first; by default everything not done (pending, running, dead)."""
    query = select(SlackInbox).order_by(SlackInbox.id.desc()).limit(limit)
    if status:
        query = query.where(SlackInbox.status == status)
    else:
        query = query.where(SlackInbox.status != DONE)
    with db.uow(read_only=True) as uow:
        return [_item(row) for row in uow.session.scalars(query)]


def retry(db: Database, item_id: int | None = None) -> int:
    """Put dead items (one, or all) back to pending with fresh attempts; how many."""
    query = update(SlackInbox).where(SlackInbox.status == DEAD)
    if item_id is not None:
        query = query.where(SlackInbox.id == item_id)
    with db.uow() as uow:
        changed = uow.session.execute(
            query.values(status=PENDING, attempts=0, lease_until=None).execution_options(
                synchronize_session=False
            )
        )
        uow.commit()
    count = int(changed.rowcount or 0)  # type: ignore[attr-defined]
    if item_id is not None and count == 0:
        raise NotFound(f"No dead inbox item {item_id}; `spokebot inbox list` shows them.")
    return count
