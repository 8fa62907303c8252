"""The durable inbox: Slack requests recorded before they are acknowledged, worked on after,
each exactly once by its Slack id, with retries and a dead-letter state.

`pending` (waiting, or backing off until `lease_until`) -> `running` (claimed by a worker
until `lease_until`; a worker that dies leaves it to be claimed again once that passes) ->
`done`, or `dead` after MAX_ATTEMPTS failures (`spokebot inbox list|retry`).

What an item costs the database, kept to one statement and one transaction of its own
(issue 15): the process that receives a request works it at once, so `record` inserts it
already `running` under that process's lease (its first attempt: no separate claim). Its
done-mark is not a transaction of its own either: the worker keeps it and `record` writes it,
for any number of finished items in one UPDATE, inside the next item's INSERT transaction
(the poller's pass, and SIGTERM, write what is left). An item finished but not yet marked
when its process dies is worked again once its lease ends: processing is at-least-once, as
it always was (the use cases tolerate a second run: a send is found by its key, a batch
request sees the batch it already gave). The done-mark can't ride in the work's own
transaction: the reply (response_url, views.publish) comes after that commit, and an item
marked done with its reply lost would never be answered.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, any_, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Update

from core.db import Database, is_postgres
from core.errors import NotFound
from core.models import SlackInbox

PENDING, RUNNING, DONE, DEAD = "pending", "running", "done", "dead"
MAX_ATTEMPTS = 5
DEFAULT_LEASE = timedelta(seconds=60)
BACKOFF = timedelta(seconds=5)  # times the attempt number
_INBOX = SlackInbox.__table__
_INSERT = insert(_INBOX).returning(_INBOX.c.id)


def _mark_done_where(id_test: ColumnElement[bool]) -> Update:
    return (
        update(_INBOX)
        .where(id_test, _INBOX.c.status == RUNNING)
        .values(status=DONE, done_at=bindparam("now"), lease_until=None)
    )


# PostgreSQL takes the ids as one array parameter: one SQL text for any number of them, so
# the ack path's statement stays prepared instead of being rendered anew for each count.
_MARK_DONE_ANY = _mark_done_where(
    _INBOX.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(_INBOX.c.id.type)))
)
_MARK_DONE_IN = _mark_done_where(_INBOX.c.id.in_(bindparam("ids", expanding=True)))


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
    db: Database,
    slack_id: str,
    team_id: str,
    kind: str,
    payload: str,
    now: datetime | None = None,
    *,
    lease: timedelta | None = None,
    done: Collection[int] = (),
) -> int | None:
    """Store a request before its ack; its id, or None when Slack redelivered one already
    stored. Raises when the database can't take it (then the request must not be acked).

    With `lease` it is stored already `running` (first attempt) for the caller to work at
    once; `done` are items the caller finished, marked done in the same transaction (not
    marked when this returns None or raises)."""
    now = now or datetime.now(UTC)
    # Core statements built once, in a transaction of the engine's own: the ORM's session and
    # unit of work cost more CPU than the database does for this one row on every ack.
    try:
        with db.engine.begin() as connection:  # rolled back if anything raises
            item_id = connection.execute(
                _INSERT,
                {
                    "slack_id": slack_id[:128],
                    "team_id": team_id[:32],
                    "kind": kind[:32],
                    "payload": payload,
                    "status": PENDING if lease is None else RUNNING,
                    "attempts": 0 if lease is None else 1,
                    "lease_until": None if lease is None else now + lease,
                    "received_at": now,
                },
            ).scalar_one()
            if done:
                _mark_done(connection, done, now)
    except IntegrityError:
        return None  # a redelivery (its slack_id is stored already)
    return int(item_id)


def item_of(
    item_id: int, slack_id: str, team_id: str, kind: str, payload: str, received_at: datetime
) -> InboxItem:
    """The item `record(..., lease=...)` stored, as a claim would have returned it."""
    return InboxItem(item_id, slack_id, team_id, kind, payload, RUNNING, 1, None, received_at)


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


def renew(
    db: Database,
    item_id: int,
    attempts: int,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> bool:
    """Extend this worker's lease on an item it holds (a compare-and-swap on its attempt):
    False when the lease ran out and another worker claimed it since."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        won = uow.session.execute(
            update(SlackInbox)
            .where(
                SlackInbox.id == item_id,
                SlackInbox.status == RUNNING,
                SlackInbox.attempts == attempts,
            )
            .values(lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
        return bool(won.rowcount)  # type: ignore[attr-defined]


def release(db: Database, item_ids: Collection[int]) -> None:
    """Items stored `running` by `record(..., lease=...)` whose work never started (the
    process is stopping): pending again, that attempt not counted, for any process at once."""
    if not item_ids:
        return
    with db.uow() as uow:
        uow.session.execute(
            update(SlackInbox)
            .where(SlackInbox.id.in_(sorted(item_ids)), SlackInbox.status == RUNNING)
            .values(status=PENDING, lease_until=None, attempts=SlackInbox.attempts - 1)
            .execution_options(synchronize_session=False)
        )
        uow.commit()


def _mark_done(connection: Connection, item_ids: Collection[int], now: datetime) -> None:
    # Only items still running: one a lease-expired retry already finished, or an admin
    # changed, keeps what it has.
    statement = _MARK_DONE_ANY if is_postgres(connection.engine) else _MARK_DONE_IN
    connection.execute(statement, {"ids": sorted(item_ids), "now": now})


def finish(db: Database, item_ids: int | Collection[int], now: datetime | None = None) -> None:
    """Mark finished items done (one statement for any number)."""
    ids = [item_ids] if isinstance(item_ids, int) else list(item_ids)
    if not ids:
        return
    with db.engine.begin() as connection:
        _mark_done(connection, ids, now or datetime.now(UTC))


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
