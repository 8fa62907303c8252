"""Tables of durable work (issue 17): which contact each number was last texted as, replies
from numbers nobody texted, and the inbox of Slack requests acknowledged but not yet done."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.spoke import Base, BigId, utcnow

INBOX_OPEN = text("status IN ('pending', 'running')")


class TextedNumber(Base):
    """The contact a number was last texted as. An inbound text belongs to that contact, in
    that organization, whatever has become of the campaign since (archived included)."""

    __tablename__ = "texted_number"

    cell: Mapped[str] = mapped_column(String(20), primary_key=True)
    campaign_contact_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("campaign_contact.id", ondelete="CASCADE"),
        index=True,
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    texted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UnmatchedInbound(Base):
    """A text from a number this service never texted: kept for admins, routed to nobody."""

    __tablename__ = "unmatched_inbound"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cell: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    service_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SlackInbox(Base):
    """A Slack request recorded before it is acknowledged, worked on after: `pending` ->
    `running` (claimed by a worker until `lease_until`) -> `done`, or `dead` after too many
    failed attempts (`spokebot inbox list|retry`)."""

    __tablename__ = "slack_inbox"
    __table_args__ = (
        Index(
            "ix_slack_inbox_open",
            "status",
            "id",
            postgresql_where=INBOX_OPEN,
            sqlite_where=INBOX_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    slack_id: Mapped[str] = mapped_column(String(128), unique=True)
    team_id: Mapped[str] = mapped_column(String(32), default="")
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
