"""Tables of the Slack layer, kept apart from core.models so capabilities grow apart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, utcnow


class SlackEvent(Base):
    """Event ids already handled: Slack redelivers an event (X-Slack-Retry-Num) when it thinks
    the first delivery failed, and a handler must not act twice."""

    __tablename__ = "slack_event"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SlackThread(Base):
    """The DM thread where a contact's conversation lives for its texter: every reply from
    the contact is posted there, and the texter answers by replying in it. One per contact;
    a conversation taken by another texter gets a new thread in their DMs."""

    __tablename__ = "slack_thread"
    __table_args__ = (UniqueConstraint("channel_id", "thread_ts"),)

    campaign_contact_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("campaign_contact.id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
