"""The outbox for texts: each text reaches the provider at most once, and every outcome is
settled.

A send is three steps. (1) Under the contact's lock a message is committed in state
`sending`, with a unique idempotency key, and the contact moves on (so neither a second
click, a release nor a restart offers it again). (2) The provider is called outside any
database transaction. (3) Its answer sets the message `queued`/`delivered` or `failed` (a
failed first text gives the contact back, for a Retry). An answer that never came (a timeout,
a crash, a database outage between the steps) leaves it `sending`/`unknown`: nobody may send
to the contact until `reconcile_outbox` has asked the provider whether it went out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.db import Database, as_utc
from core.errors import Conflict
from core.messaging.base import MessageService, SendOutcome, SendStatus, send_safely
from core.models import Campaign, CampaignContact, Message, TextedNumber
from core.services.texter_notices import SEND_SETTLED, queue_notice
from core.statuses import Direction, MessageStatus, status_after_outbound

log = logging.getLogger("spokebot.outbox")

SENDING = "sending"
UNKNOWN = "unknown"
PENDING = (SENDING, UNKNOWN)
# A live send waits at most the provider's timeout (10 s); a `sending` message older than
# this was left by a process that died or lost its database between the steps.
SETTLE_SENDING_AFTER = timedelta(seconds=60)
# The provider's record is read before anything is given up: a text it has no record of,
# this long after the attempt, did not go out, and the contact may be texted again.
GIVE_UP_AFTER = timedelta(minutes=2)
CLOCK_SKEW = timedelta(minutes=1)  # our clock against the provider's date_created
NOT_SENT = "It did not go out (the message service has no record of it); you can send it again."


@dataclass(frozen=True)
class SendResult:
    contact_id: int
    message_id: int
    sent: bool  # False: failed (the contact is still the texter's to retry) or pending
    message_status: str
    contact_status: str
    text: str
    error: str | None = None
    pending: bool = False  # the outcome is unknown: being checked with the provider


@dataclass(frozen=True)
class Claim:
    message_id: int
    contact_id: int
    cell: str
    text: str
    contact_status: str  # as the claim left it


@dataclass(frozen=True)
class ReconcileReport:
    sent: int = 0
    failed: int = 0
    unknown: int = 0


def refuse_pending(session: Session, contact_id: int, name: str) -> None:
    pending = session.scalar(
        select(Message.id)
        .where(
            Message.campaign_contact_id == contact_id,
            Message.direction == Direction.OUTBOUND.value,
            Message.status.in_(PENDING),
        )
        .limit(1)
    )
    if pending is not None:
        raise_pending(name)


def raise_pending(name: str) -> None:
    # A plain Conflict, as for a text already sent: the sentence says what is going on.
    raise Conflict(
        f"Checking whether the last text to {name} went out: it won't be sent again "
        "until the message service has told us."
    )


def claim_send(
    session: Session,
    contact: CampaignContact,
    organization_id: int,
    user_id: int,
    text: str,
    now: datetime,
    idempotency_key: str | None = None,
) -> Claim:
    """Step 1, inside the caller's transaction holding the contact's lock."""
    before = contact.message_status
    message = Message(
        campaign_contact_id=contact.id,
        user_id=user_id,
        direction=Direction.OUTBOUND.value,
        text=text,
        status=SENDING,
        idempotency_key=(idempotency_key or uuid.uuid4().hex)[:64],
        contact_status_before=before,
        created_at=now,
    )
    session.add(message)
    contact.message_status = status_after_outbound(MessageStatus(before)).value
    contact.updated_at = now
    remember_texted(session, contact.cell, contact.id, organization_id, now)
    session.flush()
    return Claim(message.id, contact.id, contact.cell, text, contact.message_status)


def sent_with_key(session: Session, key: str) -> SendResult | None:
    """The text already claimed with this idempotency key, as a send's result."""
    message = session.scalar(select(Message).where(Message.idempotency_key == key[:64]))
    if message is None:
        return None
    contact = session.get(CampaignContact, message.campaign_contact_id)
    assert contact is not None
    return _result(contact, message)


def _result(contact: CampaignContact, message: Message) -> SendResult:
    """A send's result as the message now stands."""
    return SendResult(
        contact_id=contact.id,
        message_id=message.id,
        sent=message.status not in (*PENDING, SendStatus.FAILED.value),
        message_status=message.status,
        contact_status=contact.message_status,
        text=message.text,
        error=message.error,
        pending=message.status in PENDING,
    )


def remember_texted(
    session: Session, cell: str, contact_id: int, organization_id: int, now: datetime
) -> None:
    """This number was last texted as this contact: its replies (and STOP) come here."""
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"campaign_contact_id": contact_id, "organization_id": organization_id}
    session.execute(
        dialect_insert(TextedNumber)
        .values(cell=cell, texted_at=now, **values)
        .on_conflict_do_update(index_elements=["cell"], set_={**values, "texted_at": now})
    )


def deliver(db: Database, service: MessageService, claim: Claim) -> SendResult:
    """Steps 2 and 3: call the provider (no transaction open), then record its answer."""
    outcome = send_safely(service, claim.cell, claim.text)
    try:
        return settle(db, claim.message_id, outcome)
    except SQLAlchemyError as error:
        # The database went away after the provider answered: the message stays `sending`
        # and the reconciler settles it from the provider's record.
        log.warning("recording the outcome of message %s failed: %r", claim.message_id, error)
        return pending_result(claim, outcome.error)


def pending_result(claim: Claim, error: str | None) -> SendResult:
    """A claimed text whose provider answer could not be recorded: it stays `sending` and the
    reconciler settles it from the provider's record."""
    return SendResult(
        claim.contact_id,
        claim.message_id,
        False,
        SENDING,
        claim.contact_status,
        claim.text,
        error,
        pending=True,
    )


def settle(
    db: Database, message_id: int, outcome: SendOutcome, *, tell_texter: bool = False
) -> SendResult:
    """Record a provider's answer on a message still pending (a later answer loses). With
    `tell_texter`, a text settled as sent or failed queues a notice to the texter who wrote
    it, in the same transaction (nobody else is waiting on the answer any more)."""
    with db.uow() as uow:
        result = settle_in(uow.session, message_id, outcome, tell_texter=tell_texter)
        uow.commit()
        return result


def settle_in(
    session: Session,
    message_id: int,
    outcome: SendOutcome,
    contact_id: int | None = None,
    *,
    tell_texter: bool = False,
) -> SendResult:
    """settle inside the caller's transaction (the caller commits). Given the message's
    contact (the caller's claim says it), the contact is locked before the message is read,
    so the message needs no second read after the lock."""
    known_contact = contact_id is not None
    if contact_id is None:
        found = session.get(Message, message_id)
        assert found is not None
        contact_id = found.campaign_contact_id
    query = select(CampaignContact).where(CampaignContact.id == contact_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    contact = session.scalar(query)
    assert contact is not None
    if known_contact:
        return _settle_pending(session, contact, message_id, outcome)
    message = session.get(Message, message_id, populate_existing=True)
    assert message is not None
    if message.status in PENDING:
        message.error = outcome.error or message.error
        if outcome.unknown:
            message.status = UNKNOWN
        else:
            message.status = outcome.status.value
            message.service_id = outcome.service_id
            if outcome.failed:
                _give_back(contact, message)
            else:
                _hand_to_conversation_team(session, contact, message)
            if tell_texter and message.user_id is not None:
                queue_notice(
                    session,
                    kind=SEND_SETTLED,
                    user_id=message.user_id,
                    contact_id=contact.id,
                    message_id=message.id,
                )
    return _result(contact, message)


def _settle_pending(
    session: Session, contact: CampaignContact, message_id: int, outcome: SendOutcome
) -> SendResult:
    """The answer recorded by one UPDATE of the message while it is still pending (under the
    contact's lock); a message settled meanwhile is only read."""
    values: dict[str, object] = {}
    if outcome.error:
        values["error"] = outcome.error
    if outcome.unknown:
        values["status"] = UNKNOWN
    else:
        values["status"] = outcome.status.value
        values["service_id"] = outcome.service_id
    message = session.scalars(
        update(Message)
        .where(Message.id == message_id, Message.status.in_(PENDING))
        .values(**values)
        .returning(Message),
        execution_options={"populate_existing": True},
    ).one_or_none()
    if message is None:
        settled = session.get(Message, message_id, populate_existing=True)
        assert settled is not None
        return _result(contact, settled)
    if not outcome.unknown:
        if outcome.failed:
            _give_back(contact, message)
        else:
            _hand_to_conversation_team(session, contact, message)
    return _result(contact, message)


def _hand_to_conversation_team(
    session: Session, contact: CampaignContact, message: Message
) -> None:
    """Spoke's outbound-unassign (split assignments): a first text recorded as sent leaves
    the contact unassigned in the same transaction, so its reply waits for the conversation
    team instead of reaching the first-text sender."""
    if message.contact_status_before != MessageStatus.NEEDS_MESSAGE.value:
        return
    campaign = session.get(Campaign, contact.campaign_id)
    if campaign is not None and (campaign.settings or {}).get("split_assignments"):
        contact.assignment_id = None


def _give_back(contact: CampaignContact, message: Message) -> None:
    """A text that provably didn't go out: the contact is as it was before the send."""
    before = message.contact_status_before
    if before and contact.message_status == status_after_outbound(MessageStatus(before)).value:
        contact.message_status = before


def reconcile_outbox(
    db: Database,
    service: MessageService,
    now: datetime | None = None,
    *,
    contact_id: int | None = None,
    limit: int = 200,
    settle_sending_after: timedelta = SETTLE_SENDING_AFTER,
    tell_texters: bool = True,
) -> ReconcileReport:
    """Settle texts whose outcome was lost, from the provider's own record: found there ->
    sent; not found GIVE_UP_AFTER after the attempt -> failed (may be sent again); the
    provider can't be asked -> left for the next run. Safe to run in many processes. Each
    text settled is told to its texter (a texter notice), unless the caller tells them."""
    now = now or datetime.now(UTC)
    query = (
        select(Message.id, Message.status, Message.text, Message.created_at, CampaignContact.cell)
        .join(CampaignContact, CampaignContact.id == Message.campaign_contact_id)
        .where(Message.direction == Direction.OUTBOUND.value, Message.status.in_(PENDING))
        .order_by(Message.created_at)
        .limit(limit)
    )
    if contact_id is not None:
        query = query.where(Message.campaign_contact_id == contact_id)
    with db.uow(read_only=True) as uow:
        pending = uow.session.execute(query).all()
    sent = failed = unknown = 0
    for row in pending:
        attempted = as_utc(row.created_at)
        if row.status == SENDING and now - attempted < settle_sending_after:
            continue  # a live process may still be waiting for the provider's answer
        try:
            found = service.find_sent(row.cell, row.text, attempted - CLOCK_SKEW)
        except Exception as error:  # the provider can't be asked now: the next run will
            log.warning("asking the message service about message %s failed: %r", row.id, error)
            unknown += 1
            continue
        match = _unclaimed(db, found)
        if match is not None:
            settle(db, row.id, match, tell_texter=tell_texters)
            sent += 1
        elif now - attempted >= GIVE_UP_AFTER:
            settle(
                db, row.id, SendOutcome(SendStatus.FAILED, None, NOT_SENT), tell_texter=tell_texters
            )
            failed += 1
        else:
            settle(db, row.id, SendOutcome(SendStatus.UNKNOWN, None, None))
            unknown += 1
    if sent or failed:
        log.info("outbox reconciled: %d went out, %d did not", sent, failed)
    return ReconcileReport(sent, failed, unknown)


def recheck(db: Database, service: MessageService, result: SendResult) -> SendResult:
    """A send whose outcome is pending, asked about at once: the attempt that left it is
    over (its provider call timed out, or an inbox retry holds the lease its dead process
    had), so the provider's record settles it now if it has one."""
    if not result.pending:
        return result
    # The caller shows the settled result itself: no notice.
    reconcile_outbox(
        db,
        service,
        contact_id=result.contact_id,
        settle_sending_after=timedelta(0),
        tell_texters=False,
    )
    with db.uow(read_only=True) as uow:
        message = uow.session.get(Message, result.message_id)
        contact = uow.session.get(CampaignContact, result.contact_id)
        if message is None or contact is None:
            return result
        return _result(contact, message)


def _unclaimed(db: Database, found: Sequence[SendOutcome]) -> SendOutcome | None:
    """The provider's first matching message that no stored message already is."""
    ids = [outcome.service_id for outcome in found if outcome.service_id]
    if not ids:
        return None
    with db.uow(read_only=True) as uow:
        known = set(
            uow.session.scalars(select(Message.service_id).where(Message.service_id.in_(ids)))
        )
    return next((o for o in found if o.service_id and o.service_id not in known), None)
