"""Slack's Events API redelivers an event it thinks was missed: remember which were handled."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.models import SlackEvent, utcnow

EVENT_MEMORY = timedelta(days=2)  # Slack stops retrying an event after about an hour


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
