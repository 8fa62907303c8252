"""The buttons in a contact's DM thread, one use case each: Close and Opt out (one
transaction: who clicked, the change, and the thread's first message as it now stands), and
Retry of a failed answer (its claim committed before the provider is called, then the
provider's answer settled with what the thread's first message shows: two transactions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import NotFound
from core.messaging.base import MessageService
from core.models import Campaign, CampaignContact, Message
from core.services.identity import Identity, identify_in
from core.services.outbox import SendResult, pending_result, send_safely, settle_in
from core.services.texting import (
    Thread,
    claim_reply_in,
    close_conversation_in,
    opt_out_contact_in,
    thread_of,
)
from core.services.texting_rules import campaign_of, checked_text, load_contact, require_owner
from core.services.threads import ThreadRef, thread_for_in
from core.services.waiting_replies import texter_names_in


@dataclass(frozen=True)
class ThreadState:
    """What a thread's first message shows: the conversation, its campaign and who sent
    each message."""

    thread: Thread
    campaign_title: str
    names: dict[int, str]


@dataclass(frozen=True)
class ThreadAnswer:
    """Close or Opt out: the thread as it now stands, for the clicked message."""

    identity: Identity
    state: ThreadState


@dataclass(frozen=True)
class RetryAnswer:
    """A failed answer sent again: what happened, and (sent, in a thread) the thread's
    first message as it now stands."""

    identity: Identity
    contact_id: int
    first_name: str
    result: SendResult
    ref: ThreadRef | None = None  # the contact's thread with this texter
    state: ThreadState | None = None


def close_conversation_as(
    db: Database, slack_team_id: str, slack_user_id: str, name: str | None, contact_id: int
) -> ThreadAnswer:
    """Close: no reply needed (a new inbound text reopens the conversation)."""

    def close(
        session: Session, contact: CampaignContact, campaign: Campaign, who: Identity
    ) -> None:
        close_conversation_in(session, contact, campaign, who.user_id, role=who.role)

    return _change_as(db, slack_team_id, slack_user_id, name, contact_id, close)


def opt_out_contact_as(
    db: Database, slack_team_id: str, slack_user_id: str, name: str | None, contact_id: int
) -> ThreadAnswer:
    """Opt out: the number is opted out in every live campaign of the organization."""

    def opt_out(
        session: Session, contact: CampaignContact, campaign: Campaign, who: Identity
    ) -> None:
        opt_out_contact_in(session, contact, campaign, who.user_id, role=who.role)
        session.refresh(contact)  # the opt-out's bulk update changed it behind the session

    return _change_as(db, slack_team_id, slack_user_id, name, contact_id, opt_out)


def _change_as(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    contact_id: int,
    change: Callable[[Session, CampaignContact, Campaign, Identity], None],
) -> ThreadAnswer:
    """Who clicked, the change to the locked contact, and the thread as it now stands: one
    transaction."""
    with db.uow() as uow:
        session = uow.session
        identity = identify_in(session, slack_team_id, slack_user_id, name)
        contact = load_contact(session, contact_id, lock=True)
        campaign = campaign_of(session, contact)
        change(session, contact, campaign, identity)
        answer = ThreadAnswer(identity, _state(session, contact, campaign))
        uow.commit()
        return answer


def retry_failed_text_as(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    contact_id: int,
    message_id: int,
    service: MessageService,
    now: datetime | None = None,
) -> RetryAnswer:
    """Retry: the failed text again, from whoever holds the contact now."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        identity = identify_in(session, slack_team_id, slack_user_id, name)
        contact = load_contact(session, contact_id, lock=True)
        # Seen by whoever may see the thread (its holder, staff); sent only by its holder.
        campaign = campaign_of(session, contact)
        require_owner(
            session, contact, campaign, identity.user_id, staff_ok=True, known_role=identity.role
        )
        text = checked_text(_message_text(session, contact, message_id), "reply")
        ref = thread_for_in(session, contact_id, identity.user_id)
        first = contact.first_name or contact.cell
        claim = claim_reply_in(session, contact, identity.user_id, text, now, role=identity.role)
        uow.commit()
    outcome = send_safely(service, claim.cell, claim.text)
    try:
        with db.uow() as uow:
            session = uow.session
            result = settle_in(session, claim.message_id, outcome, claim.contact_id)
            state = None
            if result.sent and ref is not None:
                contact = load_contact(session, contact_id, lock=False)
                state = _state(session, contact, campaign_of(session, contact))
            uow.commit()
    except SQLAlchemyError:
        # The database went away after the provider answered: the message stays `sending`
        # and the reconciler settles it from the provider's record.
        return RetryAnswer(identity, contact_id, first, pending_result(claim, outcome.error), ref)
    return RetryAnswer(identity, contact_id, first, result, ref, state)


def _message_text(session: Session, contact: CampaignContact, message_id: int) -> str:
    """The text of the contact's message `message_id`."""
    text = session.scalar(
        select(Message.text).where(
            Message.id == message_id, Message.campaign_contact_id == contact.id
        )
    )
    if text is None:
        raise NotFound("That text no longer exists, so it can't be sent again.")
    return text


def _state(session: Session, contact: CampaignContact, campaign: Campaign) -> ThreadState:
    thread = thread_of(session, contact)
    senders = {m.user_id for m in thread.messages if m.user_id is not None}
    return ThreadState(thread, campaign.title, texter_names_in(session, senders))
