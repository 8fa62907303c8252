"""Tables of the Slack layer, kept apart from core.models so capabilities grow apart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, utcnow


class SlackEvent(Base):
    """Event ids already handled: Slack redelivers an event (X-Slack-Retry-Num) when it thinks
    the first delivery failed, and a handler must not act twice."""

    __tablename__ = "slack_event"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
