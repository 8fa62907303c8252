"""The texting loop: the send card, first texts, replies both ways, closing and opting out.

Each function is one unit of work. A send is claimed in the transaction that holds the
contact's row lock (FOR UPDATE on PostgreSQL, the write lock on SQLite) and committed before
the provider is called (core.services.outbox), so a double click, a retried request or a
restart sends once: the second one finds the contact already messaged or its text pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.messaging.base import MessageService
from core.models import Assignment, Campaign, CampaignContact, Message, User
from core.roles import Role
from core.script_render import render_script
from core.services.inbound import InboundResult, receive_inbound
from core.services.opt_outs import is_cell_opted_out, opt_out_cell
from core.services.organizations import member_role
from core.services.outbox import (
    SendResult,
    claim_send,
    deliver,
    refuse_pending,
    sent_with_key,
)
from core.statuses import Direction, MessageStatus
from core.texting_hours import is_textable_now, next_window_start

__all__ = [
    "ContactStatusResult",
    "InboundResult",
    "MessageView",
    "OptOutResult",
    "OutsideTextingHours",
    "SendCard",
    "SendResult",
    "Thread",
    "close_conversation",
    "conversation",
    "next_contact_to_send",
    "opt_out_contact",
    "receive_inbound",
    "record_delivery_status",
    "render_script",
    "send_first_text",
    "send_reply",
]

MAX_SMS_LENGTH = 1600  # Twilio's limit for one message body
INBOUND_RECEIVED = "received"
STAFF = Role.SUPERVOLUNTEER  # may read threads, close and opt out contacts they don't own


class OutsideTextingHours(Conflict):
    """The contact's local time is outside the campaign's texting hours."""

    def __init__(self, message: str, textable_at: datetime) -> None:
        super().__init__(message)
        self.textable_at = textable_at


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SendCard:
    """One contact to send a first text to, as the send card shows it."""

    contact_id: int
    assignment_id: int
    campaign_id: int
    campaign_title: str
    first_name: str
    last_name: str
    cell: str
    zip: str
    custom_fields: dict[str, str]
    text: str
    can_edit: bool
    textable_now: bool
    textable_at: datetime | None  # when texting hours open for this contact, if not now
    timezone: str
    remaining: int  # unsent first texts the texter holds, this one included
    hours_note: str | None = None  # outside texting hours: the sentence saying until when


@dataclass(frozen=True)
class ContactStatusResult:
    contact_id: int
    contact_status: str


@dataclass(frozen=True)
class OptOutResult:
    contact_id: int
    organization_id: int
    cell: str
    contacts_flagged: int  # contacts of the organization's live campaigns newly opted out


@dataclass(frozen=True)
class MessageView:
    id: int
    direction: str
    text: str
    status: str
    user_id: int | None
    error: str | None
    created_at: datetime


@dataclass(frozen=True)
class Thread:
    contact_id: int
    campaign_id: int
    first_name: str
    last_name: str
    cell: str
    contact_status: str
    is_opted_out: bool
    messages: tuple[MessageView, ...]


# ---------------------------------------------------------------------------- helpers


def contact_fields(contact: CampaignContact) -> dict[str, Any]:
    """The fields a script may use; the standard ones win over same-named custom columns."""
    fields: dict[str, Any] = dict(contact.custom_fields or {})
    fields.update(
        firstName=contact.first_name,
        lastName=contact.last_name,
        zip=contact.zip,
        cell=contact.cell,
    )
    return fields


def _display_name(contact: CampaignContact) -> str:
    return f"{contact.first_name} {contact.last_name}".strip() or contact.cell


def _zone_name(contact_zone: str | None, campaign_zone: str) -> str:
    for name in (contact_zone, campaign_zone):
        if name:
            try:
                ZoneInfo(name)
                return name
            except (ZoneInfoNotFoundError, ValueError):
                continue  # an unknown zone falls back to the campaign's, never crashes a send
    return "UTC"


def _textable_at(campaign: Campaign, zone: str, now: datetime) -> datetime | None:
    """None when the contact may be texted now, else when texting hours next open."""
    start, end = campaign.texting_hours_start, campaign.texting_hours_end
    if start is None or end is None or is_textable_now(start, end, zone, now):
        return None
    return next_window_start(start, end, zone, now)


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {'AM' if moment.hour < 12 else 'PM'}"


def _hours_note(
    campaign: Campaign, contact: CampaignContact, now: datetime
) -> tuple[str, datetime] | None:
    """None inside texting hours; else the sentence saying until when, and that moment."""
    zone = _zone_name(contact.timezone, campaign.timezone)
    when = _textable_at(campaign, zone, now)
    if when is None:
        return None
    day = (
        "today" if when.date() == now.astimezone(when.tzinfo).date() else f"{when:%A %B} {when.day}"
    )
    sentence = (
        f"It's outside texting hours for {_display_name(contact)} "
        f"({campaign.texting_hours_start}:00-{campaign.texting_hours_end}:00 their time). "
        f"You can text them from {_clock(when)} {day} ({zone})."
    )
    return sentence, when


def _check_texting_hours(campaign: Campaign, contact: CampaignContact, now: datetime) -> None:
    note = _hours_note(campaign, contact, now)
    if note is not None:
        raise OutsideTextingHours(*note)


def _load_contact(session: Session, contact_id: int, lock: bool) -> CampaignContact:
    query = select(CampaignContact).where(CampaignContact.id == contact_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        # Serialises two clicks on the same contact; SQLite's BEGIN IMMEDIATE already does.
        query = query.with_for_update()
    contact = session.scalar(query)
    if contact is None:
        raise NotFound("That contact no longer exists.")
    return contact


def _campaign(session: Session, contact: CampaignContact) -> Campaign:
    campaign = session.get(Campaign, contact.campaign_id)
    if campaign is None:  # impossible through the foreign key; a clear error if it happens
        raise NotFound("That contact's campaign no longer exists.")
    return campaign


def _require_owner(
    session: Session, contact: CampaignContact, campaign: Campaign, user_id: int, staff_ok: bool
) -> Assignment | None:
    """The contact's assignment if `user_id` owns it; staff may act on any contact of their
    organization when `staff_ok`. Suspended members may do nothing."""
    role = member_role(session, user_id, campaign.organization_id)
    if role is None or role == Role.SUSPENDED:
        raise NotAllowed("You're not an active member of this campaign's organization.")
    assignment = session.get(Assignment, contact.assignment_id) if contact.assignment_id else None
    if assignment is not None and assignment.user_id == user_id:
        return assignment
    if staff_ok and role.at_least(STAFF):
        return assignment
    raise NotAllowed(
        f"{_display_name(contact)} is not assigned to you anymore, so you can't text them."
    )


def _refuse_opted_out(session: Session, contact: CampaignContact, campaign: Campaign) -> None:
    if contact.is_opted_out or is_cell_opted_out(session, campaign.organization_id, contact.cell):
        raise Conflict(f"{_display_name(contact)} has opted out; they can't be texted again.")


def _refuse_archived(campaign: Campaign) -> None:
    if campaign.is_archived:
        raise Conflict("This campaign is archived, so no more texts can be sent in it.")


def _checked_text(text: str, what: str) -> str:
    body = text.strip()
    if not body:
        raise InvalidInput(f"The {what} can't be empty.")
    if len(body) > MAX_SMS_LENGTH:
        raise InvalidInput(
            f"The {what} is {len(body)} characters; the most one text can carry is "
            f"{MAX_SMS_LENGTH}."
        )
    return body


def _texter_name(session: Session, user_id: int) -> str:
    return session.scalar(select(User.name).where(User.id == user_id)) or ""


def _can_edit(campaign: Campaign) -> bool:
    return bool((campaign.settings or {}).get("allow_edit_initial", True))


def assignment_and_campaign(session: Session, assignment_id: int) -> tuple[Assignment, Campaign]:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("That assignment no longer exists.")
    campaign = session.get(Campaign, assignment.campaign_id)
    assert campaign is not None  # the foreign key guarantees it
    return assignment, campaign


def unsent_first_texts(
    session: Session, assignment_id: int
) -> Sequence[Row[tuple[int, str | None]]]:
    """Id and time zone of the assignment's unsent, not opted-out contacts, lowest id first.
    A texter holds at most a few batches of them: reading their ids and zones is cheap and
    lets texting hours be judged per contact."""
    return session.execute(
        select(CampaignContact.id, CampaignContact.timezone)
        .where(
            CampaignContact.assignment_id == assignment_id,
            CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
            CampaignContact.is_opted_out.is_(False),
        )
        .order_by(CampaignContact.id)
    ).all()


# ---------------------------------------------------------------------------- the send card


def next_contact_to_send(
    db: Database,
    assignment_id: int,
    after_contact_id: int | None = None,
    now: datetime | None = None,
) -> SendCard | None:
    """The texter's next unsent, not opted-out contact after `after_contact_id` that can be
    texted now. None when there is none: the card's walk is over (see send_queue.held_left
    for what, skipped or outside texting hours, is still held)."""
    now = now or datetime.now(UTC)
    with db.uow(read_only=True) as uow:
        session = uow.session
        assignment, campaign = assignment_and_campaign(session, assignment_id)
        unsent = unsent_first_texts(session, assignment_id)
        if not unsent:
            return None
        after = after_contact_id if after_contact_id is not None else -1

        def opens_at(zone: str | None) -> datetime | None:
            return _textable_at(campaign, _zone_name(zone, campaign.timezone), now)

        chosen = next(
            (row for row in unsent if row.id > after and opens_at(row.timezone) is None), None
        )
        if chosen is None:
            return None
        contact = session.get(CampaignContact, chosen.id)
        assert contact is not None
        zone = _zone_name(contact.timezone, campaign.timezone)
        note = _hours_note(campaign, contact, now)
        texter = _texter_name(session, assignment.user_id)
        return SendCard(
            contact_id=contact.id,
            assignment_id=assignment_id,
            campaign_id=campaign.id,
            campaign_title=campaign.title,
            first_name=contact.first_name,
            last_name=contact.last_name,
            cell=contact.cell,
            zip=contact.zip,
            custom_fields={
                str(k): str(v)
                for k, v in (contact.custom_fields or {}).items()
                if v not in ("", None)
            },
            text=render_script(campaign.script, contact_fields(contact), texter),
            can_edit=_can_edit(campaign),
            textable_now=note is None,
            textable_at=note[1] if note else None,
            timezone=zone,
            remaining=len(unsent),
            hours_note=note[0] if note else None,
        )


# ---------------------------------------------------------------------------- sending


def send_first_text(
    db: Database,
    contact_id: int,
    acting_user_id: int,
    message_service: MessageService,
    text_override: str | None = None,
    now: datetime | None = None,
) -> SendResult:
    """Send the contact's first text (the rendered script, or the texter's edit when the
    campaign allows edits). A provider failure returns sent=False; nothing is raised."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        contact = _load_contact(session, contact_id, lock=True)
        campaign = _campaign(session, contact)
        _require_owner(session, contact, campaign, acting_user_id, staff_ok=False)
        _refuse_archived(campaign)
        _refuse_opted_out(session, contact, campaign)
        refuse_pending(session, contact.id, _display_name(contact))
        if contact.message_status != MessageStatus.NEEDS_MESSAGE.value:
            raise Conflict(f"{_display_name(contact)} has already been sent their first text.")
        _check_texting_hours(campaign, contact, now)
        if text_override is not None:
            if not _can_edit(campaign):
                raise NotAllowed("This campaign doesn't allow editing the first text.")
            text = _checked_text(text_override, "first text")
        else:
            texter = _texter_name(session, acting_user_id)
            text = _checked_text(
                render_script(campaign.script, contact_fields(contact), texter), "first text"
            )
        claim = claim_send(session, contact, campaign.organization_id, acting_user_id, text, now)
        uow.commit()
    return deliver(db, message_service, claim)


def send_reply(
    db: Database,
    contact_id: int,
    acting_user_id: int,
    text: str,
    message_service: MessageService,
    now: datetime | None = None,
    idempotency_key: str | None = None,
) -> SendResult:
    """The texter answers a conversation; the contact becomes `convo`. The same
    `idempotency_key` again (a retried request) returns the first send's result."""
    body = _checked_text(text, "reply")
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        contact = _load_contact(session, contact_id, lock=True)
        if idempotency_key and (earlier := sent_with_key(session, idempotency_key)):
            return earlier
        campaign = _campaign(session, contact)
        _require_owner(session, contact, campaign, acting_user_id, staff_ok=False)
        _refuse_archived(campaign)
        _refuse_opted_out(session, contact, campaign)
        refuse_pending(session, contact.id, _display_name(contact))
        if contact.message_status == MessageStatus.NEEDS_MESSAGE.value:
            raise Conflict(f"Send {_display_name(contact)} their first text before replying.")
        _check_texting_hours(campaign, contact, now)
        claim = claim_send(
            session, contact, campaign.organization_id, acting_user_id, body, now, idempotency_key
        )
        uow.commit()
    return deliver(db, message_service, claim)


# ---------------------------------------------------------------------------- threads


def close_conversation(db: Database, contact_id: int, acting_user_id: int) -> ContactStatusResult:
    """No reply needed: the contact becomes `closed` (a new inbound text reopens it)."""
    with db.uow() as uow:
        session = uow.session
        contact = _load_contact(session, contact_id, lock=True)
        campaign = _campaign(session, contact)
        _require_owner(session, contact, campaign, acting_user_id, staff_ok=True)
        if contact.message_status == MessageStatus.NEEDS_MESSAGE.value:
            raise Conflict(f"{_display_name(contact)} hasn't been texted yet; nothing to close.")
        contact.message_status = MessageStatus.CLOSED.value
        uow.commit()
        return ContactStatusResult(contact.id, contact.message_status)


def opt_out_contact(
    db: Database, contact_id: int, acting_user_id: int, reason: str = "texter"
) -> OptOutResult:
    """The texter's Opt out button: the number is opted out in every live campaign of the
    organization and never texted again."""
    with db.uow() as uow:
        session = uow.session
        contact = _load_contact(session, contact_id, lock=True)
        campaign = _campaign(session, contact)
        _require_owner(session, contact, campaign, acting_user_id, staff_ok=True)
        flagged = opt_out_cell(
            session,
            campaign.organization_id,
            contact.cell,
            reason.strip() or "texter",
            datetime.now(UTC),
        )
        uow.commit()
        return OptOutResult(contact.id, campaign.organization_id, contact.cell, flagged)


def conversation(db: Database, contact_id: int, acting_user_id: int) -> Thread:
    """Every message with the contact, oldest first (for rendering a thread)."""
    with db.uow(read_only=True) as uow:
        session = uow.session
        contact = _load_contact(session, contact_id, lock=False)
        campaign = _campaign(session, contact)
        _require_owner(session, contact, campaign, acting_user_id, staff_ok=True)
        return thread_of(session, contact)


def thread_of(session: Session, contact: CampaignContact) -> Thread:
    """The contact and every message with them, oldest first."""
    messages = session.scalars(
        select(Message)
        .where(Message.campaign_contact_id == contact.id)
        .order_by(Message.created_at, Message.id)
    ).all()
    return Thread(
        contact_id=contact.id,
        campaign_id=contact.campaign_id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        cell=contact.cell,
        contact_status=contact.message_status,
        is_opted_out=contact.is_opted_out,
        messages=tuple(
            MessageView(m.id, m.direction, m.text, m.status, m.user_id, m.error, m.created_at)
            for m in messages
        ),
    )


# ---------------------------------------------------------------------------- delivery reports

# Stored outbound statuses in the order a message moves through them. Provider callbacks can
# arrive out of order ("sent" after "delivered"); a report never moves a message backwards.
_DELIVERY_RANK = {"queued": 0, "sent": 1, "delivered": 2, "failed": 2}
_PROVIDER_STATUS = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
}


def record_delivery_status(
    db: Database, service_id: str, provider_status: str, error: str | None = None
) -> bool:
    """Apply a provider's delivery report to the outbound message with that id; False when
    no such message exists or the report is stale. The contact's status does not change: a
    failed delivery is shown on the message, the conversation stays where it is."""
    status = _PROVIDER_STATUS.get(provider_status.strip().lower())
    if status is None or not service_id:
        return False
    with db.uow() as uow:
        message = uow.session.scalar(
            select(Message).where(
                Message.service_id == service_id, Message.direction == Direction.OUTBOUND.value
            )
        )
        if message is None:
            return False
        current = _DELIVERY_RANK.get(message.status, -1)
        if message.status in ("delivered", "failed") or _DELIVERY_RANK[status] < current:
            return False
        message.status = status
        if status == "failed":
            message.error = error or "The carrier could not deliver this text."
        uow.commit()
        return True
