"""The texting loop: the send card, first texts, replies both ways, closing and opting out.

Each function is one unit of work. Sends happen inside the transaction that holds the
contact's row lock (FOR UPDATE on PostgreSQL, the write lock on SQLite), so a double click
or a retried request sends once: the second one finds the contact already messaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.messaging.base import MessageService, SendStatus, send_safely
from core.models import Assignment, Campaign, CampaignContact, Message, User
from core.roles import Role
from core.script_render import render_script
from core.services.contact_import import normalise_cell
from core.services.opt_outs import is_cell_opted_out, is_stop_keyword, opt_out_cell
from core.services.organizations import member_role
from core.statuses import Direction, MessageStatus, status_after_inbound, status_after_outbound
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
class SendResult:
    contact_id: int
    message_id: int
    sent: bool  # False: the provider failed; the contact is still the texter's to retry
    message_status: str
    contact_status: str
    text: str
    error: str | None = None


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


def _outbound(
    session: Session,
    contact: CampaignContact,
    user_id: int,
    text: str,
    service: MessageService,
    now: datetime,
) -> SendResult:
    """Send, store the message, and move the contact's status unless the provider failed
    (then the contact stays as it was, with its texter, for a retry)."""
    outcome = send_safely(service, contact.cell, text)
    message = Message(
        campaign_contact_id=contact.id,
        user_id=user_id,
        direction=Direction.OUTBOUND.value,
        text=text,
        status=outcome.status.value,
        service_id=outcome.service_id,
        error=outcome.error,
        created_at=now,
    )
    session.add(message)
    if outcome.status != SendStatus.FAILED:
        contact.message_status = status_after_outbound(MessageStatus(contact.message_status))
        contact.updated_at = now
    session.flush()
    return SendResult(
        contact_id=contact.id,
        message_id=message.id,
        sent=not outcome.failed,
        message_status=outcome.status.value,
        contact_status=contact.message_status,
        text=text,
        error=outcome.error,
    )


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


# ---------------------------------------------------------------------------- the send card


def next_contact_to_send(
    db: Database,
    assignment_id: int,
    after_contact_id: int | None = None,
    now: datetime | None = None,
) -> SendCard | None:
    """The texter's next unsent, not opted-out contact after `after_contact_id` (wrapping
    around, so skipped contacts come back), preferring contacts inside texting hours.
    None when the texter holds no unsent first texts."""
    now = now or datetime.now(UTC)
    with db.uow(read_only=True) as uow:
        session = uow.session
        assignment = session.get(Assignment, assignment_id)
        if assignment is None:
            raise NotFound("That assignment no longer exists.")
        campaign = session.get(Campaign, assignment.campaign_id)
        assert campaign is not None  # the foreign key guarantees it
        # A texter holds at most a few batches of unsent contacts: reading their ids and zones
        # is cheap and lets texting hours be judged per contact.
        unsent = session.execute(
            select(CampaignContact.id, CampaignContact.timezone)
            .where(
                CampaignContact.assignment_id == assignment_id,
                CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
                CampaignContact.is_opted_out.is_(False),
            )
            .order_by(CampaignContact.id)
        ).all()
        if not unsent:
            return None
        after = after_contact_id if after_contact_id is not None else -1
        ordered = [row for row in unsent if row.id > after] + [
            row for row in unsent if row.id <= after
        ]
        if after_contact_id is not None and len(ordered) > 1:
            ordered = [row for row in ordered if row.id != after_contact_id]

        def opens_at(zone: str | None) -> datetime | None:
            return _textable_at(campaign, _zone_name(zone, campaign.timezone), now)

        chosen = next((row for row in ordered if opens_at(row.timezone) is None), ordered[0])
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
        result = _outbound(session, contact, acting_user_id, text, message_service, now)
        if result.sent and (campaign.settings or {}).get("split_assignments"):
            # Spoke's outbound-unassign: the reply waits for the conversation team.
            contact.assignment_id = None
        uow.commit()
        return result


def send_reply(
    db: Database,
    contact_id: int,
    acting_user_id: int,
    text: str,
    message_service: MessageService,
    now: datetime | None = None,
) -> SendResult:
    """The texter answers a conversation; the contact becomes `convo`."""
    body = _checked_text(text, "reply")
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        contact = _load_contact(session, contact_id, lock=True)
        campaign = _campaign(session, contact)
        _require_owner(session, contact, campaign, acting_user_id, staff_ok=False)
        _refuse_archived(campaign)
        _refuse_opted_out(session, contact, campaign)
        if contact.message_status == MessageStatus.NEEDS_MESSAGE.value:
            raise Conflict(f"Send {_display_name(contact)} their first text before replying.")
        _check_texting_hours(campaign, contact, now)
        result = _outbound(session, contact, acting_user_id, body, message_service, now)
        uow.commit()
        return result


# ---------------------------------------------------------------------------- inbound


def _contact_for_cell(
    session: Session, cell: str, campaign_id: int | None
) -> CampaignContact | None:
    """The most recently texted contact with this cell in a non-archived campaign."""
    latest = (
        select(Message.id)
        .where(Message.campaign_contact_id == CampaignContact.id)
        .order_by(Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(CampaignContact)
        .join(Campaign, Campaign.id == CampaignContact.campaign_id)
        .where(CampaignContact.cell == cell, Campaign.is_archived.is_(False))
        # Contacts never texted come last: a reply answers a text we sent.
        .order_by(latest.is_(None), latest.desc(), CampaignContact.id.desc())
        .limit(1)
    )
    if campaign_id is not None:
        query = query.where(CampaignContact.campaign_id == campaign_id)
    return session.scalar(query)


def _inbound_result(
    session: Session, contact: CampaignContact, message: Message, opted_out: bool, duplicate: bool
) -> InboundResult:
    campaign = _campaign(session, contact)
    assignment = session.get(Assignment, contact.assignment_id) if contact.assignment_id else None
    return InboundResult(
        contact_id=contact.id,
        campaign_id=contact.campaign_id,
        organization_id=campaign.organization_id,
        message_id=message.id,
        contact_name=_display_name(contact),
        contact_status=contact.message_status,
        assignment_id=assignment.id if assignment else None,
        user_id=assignment.user_id if assignment else None,
        opted_out=opted_out,
        duplicate=duplicate,
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
    return _inbound_result(session, contact, message, is_stop_keyword(message.text), True)


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
    provider message id again stores nothing and returns the first result (duplicate=True)."""
    number = normalise_cell(cell.strip(), "US") or cell.strip()
    if not number:
        raise InvalidInput("An inbound text needs the sender's number.")
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        if service_id and (earlier := _already_received(session, service_id)):
            return earlier
        contact = _contact_for_cell(session, number, campaign_id)
        if contact is None:
            where = f" in campaign {campaign_id}" if campaign_id is not None else ""
            raise NotFound(f"No contact with the number {number} in an active campaign{where}.")
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
            campaign = _campaign(session, contact)
            opt_out_cell(
                session, campaign.organization_id, contact.cell, f"keyword: {text.strip()}", now
            )
            contact.is_opted_out = True
        else:
            contact.message_status = status_after_inbound(MessageStatus(contact.message_status))
            contact.updated_at = now
        result = _inbound_result(session, contact, message, stop, False)
        uow.commit()
        return result


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
        messages = session.scalars(
            select(Message)
            .where(Message.campaign_contact_id == contact_id)
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
