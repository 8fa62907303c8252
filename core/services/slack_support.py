"""Small reads and writes the Slack layer needs that no other service offers.

Kept here so `bot/` never writes SQL; each function is one unit of work.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.models import Campaign, SlackEvent, utcnow
from core.services.campaigns import get_campaign

EVENT_MEMORY = timedelta(days=2)  # Slack stops retrying an event after about an hour


def campaign_title_in_org(db: Database, campaign_id: int, organization_id: int) -> str:
    """The campaign's title if it belongs to the organization; NotFound otherwise, so a button
    from another workspace's message can't act on this one's campaigns."""
    with db.uow(read_only=True) as uow:
        return get_campaign(uow.session, campaign_id, organization_id).title


def campaign_organization(db: Database, campaign_id: int) -> int | None:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(Campaign.organization_id).where(Campaign.id == campaign_id)
        )


def claim_event(db: Database, event_id: str) -> bool:
    """True the first time an event id is seen, False for a redelivery."""
    with db.uow() as uow:
        uow.session.add(SlackEvent(event_id=event_id[:64]))
        try:
            uow.session.flush()
        except IntegrityError:
            return False
        uow.session.execute(
            delete(SlackEvent).where(SlackEvent.received_at < utcnow() - EVENT_MEMORY)
        )
        uow.commit()
        return True


def database_answers(db: Database) -> bool:
    """For health checks: a round trip to the database."""
    try:
        with db.uow(read_only=True) as uow:
            uow.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not healthy"; the caller reports 503
        return False
