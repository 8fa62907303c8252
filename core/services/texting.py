"""The texting loop: first texts, replies, closing and opting out, reading a thread.

Each function is one unit of work. A send is claimed in the transaction that holds the
contact's row lock (FOR UPDATE on PostgreSQL, the write lock on SQLite) and committed before
the provider is called (core.services.outbox), so a double click, a retried request or a
restart sends once: the second one finds the contact already messaged or its text pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import Conflict, NotAllowed, NotFound
from core.messaging.base import MessageService
from core.models import Campaign, CampaignContact, Message, OptOut
from core.roles import Role
from core.script_render import render_script
from core.services.inbound import InboundResult, receive_inbound
from core.services.opt_outs import opt_out_cell
from core.services.outbox import (
    PENDING,
    Claim,
    SendResult,
    claim_send,
    deliver,
    raise_pending,
    refuse_pending,
    sent_with_key,
)
from core.services.texting_rules import (
    UNKNOWN,
    Unknown,
    campaign_of,
    can_edit,
    check_texting_hours,
    checked_text,
    contact_fields,
    display_name,
    load_contact,
    refuse_archived,
    refuse_opted_out,
    require_owner,
    texter_name,
)
from core.statuses import Direction, MessageStatus

__all__ = [
    "ContactStatusResult",
    "InboundResult",
    "MessageView",
    "OptOutResult",
    "SendResult",
    "Thread",
    "claim_reply_in",
    "close_conversation_in",
    "conversation",
    "opt_out_contact_in",
    "receive_inbound",
    "render_script",
    "send_first_text",
    "send_reply",
]


# ---------------------------------------------------------------------------- results


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
        claim, _ = claim_first_text_in(uow.session, contact_id, acting_user_id, text_override, now)
        uow.commit()
    return deliver(db, message_service, claim)


def claim_first_text_in(
    session: Session,
    contact_id: int,
    acting_user_id: int,
    text_override: str | None,
    now: datetime,
    *,
    texter: str | None = None,
    role: Role | Unknown | None = UNKNOWN,
    own_assignment_id: int | None = None,
) -> tuple[Claim, str]:
    """Step 1 of a first text, inside the caller's transaction (which commits it before the
    provider is called); with the contact's name. What the caller already read (the sender's
    name and role, their assignment in the campaign) isn't read again; the contact's lock,
    its number's opt-out and a text still pending to it are one statement."""
    row = session.execute(
        _CONTACT_TO_SEND_LOCKED
        if session.get_bind().dialect.name == "postgresql"
        else _CONTACT_TO_SEND,
        {"contact_id": contact_id},
    ).one_or_none()
    if row is None:
        raise NotFound("That contact no longer exists.")
    contact, cell_opted_out, pending = row
    campaign = campaign_of(session, contact)
    require_owner(
        session,
        contact,
        campaign,
        acting_user_id,
        staff_ok=False,
        known_role=role,
        own_assignment_id=own_assignment_id,
    )
    refuse_archived(campaign)
    name = display_name(contact)
    if contact.is_opted_out or cell_opted_out:
        raise Conflict(f"{name} has opted out; they can't be texted again.")
    if pending:
        raise_pending(name)
    if contact.message_status != MessageStatus.NEEDS_MESSAGE.value:
        raise Conflict(f"{name} has already been sent their first text.")
    check_texting_hours(campaign, contact, now)
    if text_override is not None:
        if not can_edit(campaign):
            raise NotAllowed("This campaign doesn't allow editing the first text.")
        text = checked_text(text_override, "first text")
    else:
        if texter is None:
            texter = texter_name(session, acting_user_id)
        text = checked_text(
            render_script(campaign.script, contact_fields(contact), texter), "first text"
        )
    claim = claim_send(session, contact, campaign.organization_id, acting_user_id, text, now)
    return claim, name


def _contact_to_send() -> Select[Any]:
    contact = CampaignContact
    organization = (
        select(Campaign.organization_id)
        .where(Campaign.id == contact.campaign_id)
        .correlate(contact)
        .scalar_subquery()
    )
    cell_opted_out = (
        exists().where(OptOut.organization_id == organization, OptOut.cell == contact.cell)
    ).correlate(contact)
    pending = exists().where(
        Message.campaign_contact_id == contact.id,
        Message.direction == Direction.OUTBOUND.value,
        Message.status.in_(PENDING),
    )
    return select(contact, cell_opted_out, pending).where(contact.id == bindparam("contact_id"))


# Serialises two clicks on the same contact (PostgreSQL); SQLite's BEGIN IMMEDIATE already does.
_CONTACT_TO_SEND = _contact_to_send()
_CONTACT_TO_SEND_LOCKED = _CONTACT_TO_SEND.with_for_update(of=CampaignContact)


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
    body = checked_text(text, "reply")
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        contact = load_contact(session, contact_id, lock=True)
        if idempotency_key and (earlier := sent_with_key(session, idempotency_key)):
            return earlier
        claim = claim_reply_in(session, contact, acting_user_id, body, now, idempotency_key)
        uow.commit()
    return deliver(db, message_service, claim)


def claim_reply_in(
    session: Session,
    contact: CampaignContact,
    acting_user_id: int,
    body: str,
    now: datetime,
    idempotency_key: str | None = None,
    *,
    role: Role | Unknown | None = UNKNOWN,
) -> Claim:
    """Step 1 of an answer, inside the caller's transaction holding the contact's lock (the
    text already checked); the caller commits it before the provider is called."""
    campaign = campaign_of(session, contact)
    require_owner(session, contact, campaign, acting_user_id, staff_ok=False, known_role=role)
    refuse_archived(campaign)
    refuse_opted_out(session, contact, campaign)
    refuse_pending(session, contact.id, display_name(contact))
    if contact.message_status == MessageStatus.NEEDS_MESSAGE.value:
        raise Conflict(f"Send {display_name(contact)} their first text before replying.")
    check_texting_hours(campaign, contact, now)
    return claim_send(
        session, contact, campaign.organization_id, acting_user_id, body, now, idempotency_key
    )


# ---------------------------------------------------------------------------- threads


def close_conversation_in(
    session: Session,
    contact: CampaignContact,
    campaign: Campaign,
    acting_user_id: int,
    *,
    role: Role | Unknown | None = UNKNOWN,
) -> ContactStatusResult:
    """No reply needed: the contact becomes `closed` (a new inbound text reopens it). In the
    caller's transaction, the contact loaded with its lock (the caller commits)."""
    require_owner(session, contact, campaign, acting_user_id, staff_ok=True, known_role=role)
    if contact.message_status == MessageStatus.NEEDS_MESSAGE.value:
        raise Conflict(f"{display_name(contact)} hasn't been texted yet; nothing to close.")
    contact.message_status = MessageStatus.CLOSED.value
    return ContactStatusResult(contact.id, contact.message_status)


def opt_out_contact_in(
    session: Session,
    contact: CampaignContact,
    campaign: Campaign,
    acting_user_id: int,
    reason: str = "texter",
    *,
    role: Role | Unknown | None = UNKNOWN,
) -> OptOutResult:
    """The texter's Opt out button: the number is opted out in every live campaign of the
    organization and never texted again. In the caller's transaction, the contact loaded
    with its lock (the caller commits). The contacts it flags are updated in bulk: `contact`
    is stale until refreshed."""
    require_owner(session, contact, campaign, acting_user_id, staff_ok=True, known_role=role)
    flagged = opt_out_cell(
        session,
        campaign.organization_id,
        contact.cell,
        reason.strip() or "texter",
        datetime.now(UTC),
    )
    return OptOutResult(contact.id, campaign.organization_id, contact.cell, flagged)


def conversation(db: Database, contact_id: int, acting_user_id: int) -> Thread:
    """Every message with the contact, oldest first (for rendering a thread)."""
    with db.uow(read_only=True) as uow:
        session = uow.session
        contact = load_contact(session, contact_id, lock=False)
        campaign = campaign_of(session, contact)
        require_owner(session, contact, campaign, acting_user_id, staff_ok=True)
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
