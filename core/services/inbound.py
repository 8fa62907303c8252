"""A contact's text arriving: routed by what was sent, stored once, STOP always kept.

An inbound text belongs to the contact its number was last texted as (texted_number), in
that contact's organization, whatever has become of the campaign (archived included). A
number this service never texted is kept as unmatched for admins and attached to nobody.
STOP and the other opt-out keywords opt the number out for the organization that texted it.

Telling the texter is a texter notice (REPLY_ARRIVED) queued with the stored reply: the
webhook's process posts it at once (bot.notify claims it, so a Twilio redelivery racing it
posts nothing), the notices' job posts it if that process died first or Slack refused.
`notified_at` marks a reply whose texter was told (or is being told) for redeliveries.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import InvalidInput, NotFound
from core.models import (
    Assignment,
    Campaign,
    CampaignContact,
    Message,
    TextedNumber,
    TexterNotice,
    UnmatchedInbound,
)
from core.services.cell_numbers import normalise_cell
from core.services.opt_outs import is_stop_keyword, opt_out_cell
from core.services.texter_notices import REPLY_ARRIVED, NoticeToQueue, queue_notices
from core.statuses import Direction, MessageStatus, status_after_inbound

INBOUND_RECEIVED = "received"
UNMATCHED_SHOWN = 200


@dataclass(frozen=True)
class InboundResult:
    contact_id: int
    campaign_id: int
    organization_id: int
    message_id: int
    contact_name: str
    contact_status: str
    assignment_id: int | None  # None: a released conversation, waiting for whoever takes it
    user_id: int | None
    opted_out: bool  # this message was a STOP-style keyword
    duplicate: bool = False  # the same provider message id was already stored
    notified: bool = False  # the texter was already told (a redelivery must not tell again)
    notice_id: int | None = None  # the texter notice telling them (none: nobody holds it)


@dataclass(frozen=True)
class UnmatchedText:
    id: int
    cell: str
    text: str
    service_id: str | None
    received_at: datetime


class UnmatchedNumber(NotFound):
    """A text from a number nobody texted: stored as unmatched, routed to nobody."""


def _contact_for_cell(
    session: Session, cell: str, campaign_id: int | None
) -> CampaignContact | None:
    """The contact this number was last texted as. `campaign_id` (the CLI's simulate-reply
    --campaign) names the campaign outright: its contact with this number."""
    if campaign_id is not None:
        return session.scalar(
            select(CampaignContact).where(
                CampaignContact.campaign_id == campaign_id, CampaignContact.cell == cell
            )
        )
    texted = session.get(TextedNumber, cell)
    return session.get(CampaignContact, texted.campaign_contact_id) if texted else None


def _inbound_result(
    session: Session,
    contact: CampaignContact,
    message: Message,
    opted_out: bool,
    duplicate: bool,
    notice_id: int | None = None,
) -> InboundResult:
    campaign = session.get(Campaign, contact.campaign_id)
    assert campaign is not None  # the foreign key guarantees it
    assignment = session.get(Assignment, contact.assignment_id) if contact.assignment_id else None
    return InboundResult(
        contact_id=contact.id,
        campaign_id=contact.campaign_id,
        organization_id=campaign.organization_id,
        message_id=message.id,
        contact_name=f"{contact.first_name} {contact.last_name}".strip() or contact.cell,
        contact_status=contact.message_status,
        assignment_id=assignment.id if assignment else None,
        user_id=assignment.user_id if assignment else None,
        opted_out=opted_out,
        duplicate=duplicate,
        notified=message.notified_at is not None,
        notice_id=notice_id,
    )


def _already_received(session: Session, service_id: str) -> InboundResult | None:
    message = session.scalar(
        select(Message).where(
            Message.service_id == service_id, Message.direction == Direction.INBOUND.value
        )
    )
    if message is None:
        return None
    contact = session.get(CampaignContact, message.campaign_contact_id)
    assert contact is not None
    notice_id = session.scalar(
        select(TexterNotice.id).where(
            TexterNotice.message_id == message.id, TexterNotice.kind == REPLY_ARRIVED
        )
    )
    opted_out = is_stop_keyword(message.text)
    return _inbound_result(session, contact, message, opted_out, True, notice_id)


def _keep_unmatched(
    db: Database, number: str, text: str, service_id: str | None, now: datetime
) -> None:
    with db.uow() as uow:
        session = uow.session
        insert = pg_insert if db.is_postgres else sqlite_insert
        statement = insert(UnmatchedInbound).values(
            cell=number, text=text, service_id=service_id, received_at=now
        )
        session.execute(statement.on_conflict_do_nothing(index_elements=["service_id"]))
        uow.commit()


def receive_inbound(
    db: Database,
    cell: str,
    text: str,
    service_id: str | None = None,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> InboundResult:
    """Store a reply and hand it to whoever owns the contact. A STOP-style keyword opts the
    number out organization-wide instead of asking for an answer. Delivering the same
    provider message id again stores nothing and returns the first result (duplicate=True).
    A number never texted raises UnmatchedNumber, the text kept as unmatched."""
    number = normalise_cell(cell.strip(), "US") or cell.strip()
    if not number:
        raise InvalidInput("An inbound text needs the sender's number.")
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        if service_id and (earlier := _already_received(session, service_id)):
            return earlier
        contact = _contact_for_cell(session, number, campaign_id)
        if contact is None and campaign_id is not None:
            raise NotFound(f"No contact with the number {number} in campaign {campaign_id}.")
    if contact is None:
        _keep_unmatched(db, number, text, service_id, now)
        raise UnmatchedNumber(
            f"No contact with the number {number} was texted by this service; the text is "
            "kept with the unmatched replies (`spokebot sms unmatched`)."
        )
    with db.uow() as uow:
        session = uow.session
        contact = session.get(CampaignContact, contact.id)
        assert contact is not None
        message = Message(
            campaign_contact_id=contact.id,
            user_id=None,
            direction=Direction.INBOUND.value,
            text=text,
            status=INBOUND_RECEIVED,
            service_id=service_id or None,
            created_at=now,
        )
        session.add(message)
        try:
            session.flush()
        except IntegrityError:
            # The same MessageSid delivered twice at once: the other delivery stored it.
            uow.rollback()
            earlier = _already_received(session, service_id) if service_id else None
            if earlier is None:
                raise
            return earlier
        stop = is_stop_keyword(text)
        if stop:
            campaign = session.get(Campaign, contact.campaign_id)
            assert campaign is not None
            # The organization that texted the number, archived campaign or not.
            opt_out_cell(
                session, campaign.organization_id, contact.cell, f"keyword: {text.strip()}", now
            )
            contact.is_opted_out = True
        else:
            contact.message_status = status_after_inbound(MessageStatus(contact.message_status))
            contact.updated_at = now
        result = _inbound_result(session, contact, message, stop, False)
        if result.user_id is not None:  # queued with the reply: a crash can't lose it
            [notice_id] = queue_notices(
                session,
                result.organization_id,
                [NoticeToQueue(REPLY_ARRIVED, result.user_id, contact.id, message_id=message.id)],
                now,
            )
            result = replace(result, notice_id=notice_id)
        uow.commit()
        return result


def mark_notified(db: Database, message_id: int, now: datetime | None = None) -> None:
    """The texter was told of this reply: a redelivery of it tells no one again."""
    with db.uow() as uow:
        uow.session.execute(
            update(Message)
            .where(Message.id == message_id, Message.notified_at.is_(None))
            .values(notified_at=now or datetime.now(UTC))
        )
        uow.commit()


def unnotified_replies(db: Database, older_than: datetime, limit: int = 100) -> list[InboundResult]:
    """Replies stored but never notified (a crash or Slack down in between), oldest first,
    that have no texter notice (stored before notices, or by nobody's texter then): those
    with one are the notices' job's."""
    with db.uow(read_only=True) as uow:
        session = uow.session
        messages = session.scalars(
            select(Message)
            .where(
                Message.direction == Direction.INBOUND.value,
                Message.notified_at.is_(None),
                Message.created_at <= older_than,
                ~exists().where(TexterNotice.message_id == Message.id),
            )
            .order_by(Message.id)
            .limit(limit)
        ).all()
        results = []
        for message in messages:
            contact = session.get(CampaignContact, message.campaign_contact_id)
            assert contact is not None
            results.append(
                _inbound_result(session, contact, message, is_stop_keyword(message.text), True)
            )
        return results


def unmatched_texts(db: Database, limit: int = UNMATCHED_SHOWN) -> list[UnmatchedText]:
    """The newest texts from numbers nobody texted, for admins."""
    with db.uow(read_only=True) as uow:
        rows = uow.session.scalars(
            select(UnmatchedInbound).order_by(UnmatchedInbound.id.desc()).limit(limit)
        ).all()
        return [UnmatchedText(r.id, r.cell, r.text, r.service_id, r.received_at) for r in rows]
