"""Where each contact's conversation lives in Slack.

The Slack layer stores one DM thread per contact (channel id + thread ts) so every reply from
the contact, and every answer from the texter, stays in one thread. `bot/` never writes SQL:
these functions are its storage (core.notifier.TexterNotifier tells a texter of a reply).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import Database
from core.models import Campaign, CampaignContact, SlackThread, User
from core.services.texting import Thread, thread_of

__all__ = [
    "ThreadRef",
    "contact_campaign",
    "save_thread",
    "slack_user_of",
    "thread_at",
    "thread_for",
    "thread_for_in",
    "thread_snapshot",
    "threads_of",
]


@dataclass(frozen=True)
class ThreadRef:
    contact_id: int
    user_id: int
    channel_id: str
    thread_ts: str


def _ref(row: SlackThread) -> ThreadRef:
    return ThreadRef(row.campaign_contact_id, row.user_id, row.channel_id, row.thread_ts)


def thread_for(db: Database, contact_id: int, user_id: int) -> ThreadRef | None:
    """The contact's thread in this texter's DMs, if one was started."""
    with db.uow(read_only=True) as uow:
        return thread_for_in(uow.session, contact_id, user_id)


def thread_for_in(session: Session, contact_id: int, user_id: int) -> ThreadRef | None:
    """thread_for inside the caller's unit of work."""
    row = session.get(SlackThread, contact_id)
    return _ref(row) if row is not None and row.user_id == user_id else None


def thread_at(db: Database, channel_id: str, thread_ts: str) -> ThreadRef | None:
    """The contact whose thread this is (a texter's message in a DM thread)."""
    with db.uow(read_only=True) as uow:
        row = uow.session.scalar(
            select(SlackThread).where(
                SlackThread.channel_id == channel_id, SlackThread.thread_ts == thread_ts
            )
        )
        return _ref(row) if row is not None else None


def save_thread(
    db: Database, contact_id: int, user_id: int, channel_id: str, thread_ts: str
) -> ThreadRef:
    """Remember the contact's thread; a conversation that moved to another texter replaces
    the old one. Two deliveries racing to start the same thread: the first one wins."""
    with db.uow() as uow:
        session = uow.session
        row = session.get(SlackThread, contact_id)
        if row is None:
            row = SlackThread(campaign_contact_id=contact_id)
            session.add(row)
        elif row.user_id == user_id:
            return _ref(row)
        row.user_id, row.channel_id, row.thread_ts = user_id, channel_id, thread_ts
        try:
            session.flush()
        except IntegrityError:
            uow.rollback()
            existing = thread_for(db, contact_id, user_id)
            if existing is None:
                raise
            return existing
        ref = _ref(row)
        uow.commit()
        return ref


def slack_user_of(db: Database, user_id: int) -> str | None:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(select(User.slack_user_id).where(User.id == user_id))


@dataclass(frozen=True)
class ContactCampaign:
    contact_id: int
    campaign_id: int
    campaign_title: str
    organization_id: int


def contact_campaign(db: Database, contact_id: int) -> ContactCampaign | None:
    with db.uow(read_only=True) as uow:
        row = uow.session.execute(
            select(CampaignContact.id, Campaign.id, Campaign.title, Campaign.organization_id)
            .join(Campaign, Campaign.id == CampaignContact.campaign_id)
            .where(CampaignContact.id == contact_id)
        ).first()
        return ContactCampaign(*row) if row is not None else None


def thread_snapshot(db: Database, contact_id: int) -> Thread | None:
    """The contact's conversation for redrawing a thread's first message outside a request
    of its owner (a conversation moved away, a reply arriving): no ownership check, so it
    is for the notifier only, never for what a person asked to see."""
    with db.uow(read_only=True) as uow:
        session = uow.session
        contact = session.get(CampaignContact, contact_id)
        if contact is None:
            return None
        return thread_of(session, contact)


def threads_of(db: Database, contact_ids: list[int]) -> list[ThreadRef]:
    """The existing threads of these contacts (whoever holds them)."""
    if not contact_ids:
        return []
    with db.uow(read_only=True) as uow:
        rows = uow.session.scalars(
            select(SlackThread).where(SlackThread.campaign_contact_id.in_(contact_ids))
        ).all()
        return [_ref(row) for row in rows]
