"""Tables of the timed jobs (core.timed_jobs): job leases, reply reminders, digest days.

All their state lives here, in the database, so any bot process can pick up where another
(or a restarted one) left off.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.spoke import Base


class JobLease(Base):
    """One row per scheduled job: whoever moves expires_at forward holds the job this tick."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128), default="")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReplyReminder(Base):
    """What a texter was last reminded about in one campaign.

    `covered` lists the latest inbound message id of every contact in that reminder: a reply
    arriving later has a new id, so "the same waiting replies" is a subset test. `version`
    makes claiming a compare-and-swap, so two processes never both claim one reminder.
    """

    __tablename__ = "reply_reminder"
    __table_args__ = (UniqueConstraint("user_id", "campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    covered: Mapped[list[Any]] = mapped_column(JSON, default=list)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=0)


class DigestState(Base):
    """The last day (UTC) an organization's admin digest was posted."""

    __tablename__ = "digest_state"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    posted_on: Mapped[date | None] = mapped_column(Date)
