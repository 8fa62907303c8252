"""Texter notices: what a texter must be told in Slack, as outbox items.

A notice is queued in the transaction that made it true (`queue_notice`), so a crash after
the commit can't lose it, and a worker (bot.texter_notices, in every `spokebot serve` and
`spokebot scheduler`) delivers it, retrying with back-off until Slack accepts it. Claims are
compare-and-swaps with a lease, like the Slack inbox: a dead worker's notice is taken again.

Kinds: SEND_SETTLED, a text whose provider answer was lost and which the outbox reconciler
has since settled (it went out, or it didn't and may be sent again), queued in the
settlement's transaction. THREAD_STATE (a thread's first message to redraw, `detail` whom it
moved to) and THREAD_TAKEN (a conversation's thread for its new holder): queued in the
transaction of a reassign, a take or a batch handing out conversations (`queue_notices`),
and by a redraw Slack refused.

Notices the working process posts itself right after its commit (`claim_notices`, then
bot.texter_notices.deliver_now) are due for the job only after DOER_HEAD_START: the job
takes them when that process died first or Slack refused it, never alongside it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from core.db import Database
from core.models import Campaign, CampaignContact, Message, TexterNotice
from core.services.opt_outs import is_stop_keyword
from core.statuses import MessageStatus

SEND_SETTLED = "send_settled"
THREAD_STATE = "thread_state"
THREAD_TAKEN = "thread_taken"
CONTACTS_GIVEN = "contacts_given"  # a reassign's DM to whoever got the contacts (`detail`)
REPLY_ARRIVED = "reply_arrived"  # a contact's reply, for its texter (core.services.inbound)
STALE_RELEASED = "stale_released"  # contacts taken back from a texter (core.services.stale)
PENDING, RUNNING, DONE, DEAD = "pending", "running", "done", "dead"
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 30  # with the back-off below, about five hours of Slack refusing
MAX_BACKOFF = timedelta(minutes=10)
DOER_HEAD_START = timedelta(seconds=30)  # like RENOTIFY_AFTER: the doer's own post had its chance


@dataclass(frozen=True)
class Notice:
    id: int
    kind: str
    organization_id: int
    user_id: int
    contact_id: int
    message_id: int | None
    attempts: int
    detail: str | None = None


@dataclass(frozen=True)
class SettledSend:
    """What the texter is told about a text the reconciler settled."""

    contact_id: int
    campaign_id: int
    message_id: int
    first_name: str
    sent: bool
    error: str | None
    first_text: bool  # a first text (Retry is the send card's) rather than a thread answer


def queue_notice(
    session: Session,
    *,
    kind: str,
    user_id: int,
    contact_id: int,
    message_id: int | None = None,
    detail: str | None = None,
    now: datetime | None = None,
) -> None:
    """Queue a notice in the caller's transaction (the contact's organization is looked up)."""
    organization_id = session.scalar(
        select(Campaign.organization_id)
        .join(CampaignContact, CampaignContact.campaign_id == Campaign.id)
        .where(CampaignContact.id == contact_id)
    )
    if organization_id is None:
        return
    now = now or datetime.now(UTC)
    session.add(
        TexterNotice(
            kind=kind,
            organization_id=organization_id,
            user_id=user_id,
            campaign_contact_id=contact_id,
            message_id=message_id,
            detail=detail,
            status=PENDING,
            attempts=0,
            due_at=now,
            created_at=now,
        )
    )


@dataclass(frozen=True)
class NoticeToQueue:
    kind: str
    user_id: int
    contact_id: int
    detail: str | None = None
    message_id: int | None = None


def queue_notices(
    session: Session,
    organization_id: int,
    notices: Sequence[NoticeToQueue],
    now: datetime | None = None,
) -> tuple[int, ...]:
    """Queue notices in the caller's transaction (one INSERT) for the caller to post right
    after its commit; their ids, for claim_notices. The job takes any left after
    DOER_HEAD_START."""
    if not notices:
        return ()
    now = now or datetime.now(UTC)
    rows = [
        TexterNotice(
            kind=notice.kind,
            organization_id=organization_id,
            user_id=notice.user_id,
            campaign_contact_id=notice.contact_id,
            message_id=notice.message_id,
            detail=notice.detail,
            status=PENDING,
            attempts=0,
            due_at=now + DOER_HEAD_START,
            created_at=now,
        )
        for notice in notices
    ]
    session.add_all(rows)
    session.flush()
    return tuple(row.id for row in rows)


def queue(
    db: Database, kind: str, user_id: int, contact_id: int, detail: str | None = None
) -> None:
    """Queue a notice in a transaction of its own."""
    with db.uow() as uow:
        queue_notice(uow.session, kind=kind, user_id=user_id, contact_id=contact_id, detail=detail)
        uow.commit()


def claim_due(db: Database, now: datetime | None = None, limit: int = 20) -> list[Notice]:
    """Notices due now (pending ones, and running ones whose worker's lease ran out), the
    oldest `limit` of them. One another worker is claiming is left to it."""
    now = now or datetime.now(UTC)
    due = and_(TexterNotice.status.in_((PENDING, RUNNING)), TexterNotice.due_at <= now)
    oldest = (
        select(TexterNotice.id)
        .where(due)
        .order_by(TexterNotice.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: concurrent ticks take others
    )
    # `due` again: a notice claimed since the subquery read it is no longer due (a CAS).
    return _claim(db, and_(TexterNotice.id.in_(oldest.scalar_subquery()), due), now)


def claim_notices(
    db: Database, notice_ids: Collection[int], now: datetime | None = None
) -> list[Notice]:
    """Claim these pending notices, due or not: the process that queued them posts them at
    once. One another worker holds or finished is left out."""
    if not notice_ids:
        return []
    now = now or datetime.now(UTC)
    chosen = and_(TexterNotice.id.in_(list(notice_ids)), TexterNotice.status == PENDING)
    return _claim(db, chosen, now)


def _claim(db: Database, chosen: ColumnElement[bool], now: datetime) -> list[Notice]:
    """Lease the notices `chosen` selects, in one UPDATE … RETURNING; in id order."""
    with db.uow() as uow:
        rows = uow.session.execute(
            update(TexterNotice)
            .where(chosen)
            .values(status=RUNNING, due_at=now + LEASE, attempts=TexterNotice.attempts + 1)
            .returning(
                TexterNotice.id,
                TexterNotice.kind,
                TexterNotice.organization_id,
                TexterNotice.user_id,
                TexterNotice.campaign_contact_id,
                TexterNotice.message_id,
                TexterNotice.attempts,
                TexterNotice.detail,
            )
            .execution_options(synchronize_session=False)
        ).all()
        uow.commit()
    return sorted((Notice(*row) for row in rows), key=lambda notice: notice.id)


def notice_delivered(db: Database, notice_id: int, now: datetime | None = None) -> None:
    with db.uow() as uow:
        uow.session.execute(
            update(TexterNotice)
            .where(TexterNotice.id == notice_id)
            .values(status=DONE, done_at=now or datetime.now(UTC))
        )
        uow.commit()


def notice_failed(db: Database, notice_id: int, error: str, now: datetime | None = None) -> str:
    """Slack didn't take it: due again after a back-off, or dead after MAX_ATTEMPTS."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        row = uow.session.get(TexterNotice, notice_id)
        if row is None:
            return DEAD
        row.last_error = error[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = DEAD
        else:
            row.status = PENDING
            row.due_at = now + min(timedelta(seconds=5) * 2 ** min(row.attempts, 10), MAX_BACKOFF)
        uow.commit()
        return row.status


def settled_send(db: Database, notice: Notice) -> SettledSend | None:
    """The settled text a SEND_SETTLED notice is about (None: it no longer exists)."""
    if notice.message_id is None:
        return None
    with db.uow(read_only=True) as uow:
        message = uow.session.get(Message, notice.message_id)
        contact = uow.session.get(CampaignContact, notice.contact_id)
        if message is None or contact is None:
            return None
        return SettledSend(
            contact_id=contact.id,
            campaign_id=contact.campaign_id,
            message_id=message.id,
            first_name=contact.first_name or contact.cell,
            sent=message.status not in ("sending", "unknown", "failed"),
            error=message.error,
            first_text=message.contact_status_before == MessageStatus.NEEDS_MESSAGE.value,
        )


@dataclass(frozen=True)
class StoredReply:
    message_id: int
    opted_out: bool  # a STOP-style keyword


def stored_reply(db: Database, notice: Notice) -> StoredReply | None:
    """The reply a REPLY_ARRIVED notice is about (None: it no longer exists)."""
    if notice.message_id is None:
        return None
    with db.uow(read_only=True) as uow:
        text = uow.session.scalar(select(Message.text).where(Message.id == notice.message_id))
    return None if text is None else StoredReply(notice.message_id, is_stop_keyword(text))


def notice_statuses(db: Database) -> dict[str, int]:
    """How many notices are in each state (for tests and the chaos bench)."""
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(TexterNotice.status, func.count()).group_by(TexterNotice.status)
        ).all()
        return {status: count for status, count in rows}
