"""Shared helpers for the scheduler tests: a controllable clock, a recording notifier, replies."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from core.db import Database
from core.models import CampaignContact, Message, User
from core.services.digest import OrgDigest
from core.services.reminders import ReminderSummary
from core.services.stale import StaleReleaseNotice
from core.statuses import Direction, MessageStatus
from tests.support.world import add_contacts, make_assignment, make_texter

# Tuesday 10 March 2026, 16:00 UTC = 12:00 in New York (EDT): inside 9-21 texting hours.
T0 = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class RecordingNotifier:
    """Records what would be sent; `failing` makes every call raise, like Slack being down."""

    failing: bool = False
    reminders: list[tuple[str, ReminderSummary]] = field(default_factory=list)
    notices: list[tuple[str, StaleReleaseNotice]] = field(default_factory=list)
    digests: list[tuple[str, OrgDigest]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _check(self) -> None:
        if self.failing:
            raise ConnectionError("slack is down")

    def send_reply_reminder(self, slack_user_id: str, reminder: ReminderSummary) -> None:
        self._check()
        with self._lock:
            self.reminders.append((slack_user_id, reminder))

    def send_stale_release_notice(self, slack_user_id: str, notice: StaleReleaseNotice) -> None:
        self._check()
        with self._lock:
            self.notices.append((slack_user_id, notice))

    def post_digest(self, channel: str, digest: OrgDigest) -> None:
        self._check()
        with self._lock:
            self.digests.append((channel, digest))

    def check_workspace(self, organization_id: int) -> None:
        pass  # one workspace, always there


def add_inbound(db: Database, contact_id: int, at: datetime, text: str = "Yes!") -> int:
    """Store a reply the way the texting loop does: an inbound row (its texter told) and
    needsResponse."""
    with db.uow() as uow:
        message = Message(
            campaign_contact_id=contact_id,
            direction=Direction.INBOUND.value,
            text=text,
            status="received",
            created_at=at,
            notified_at=at,  # the texter was told when it arrived
        )
        uow.session.add(message)
        uow.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == contact_id)
            .values(message_status=MessageStatus.NEEDS_RESPONSE.value)
        )
        uow.session.flush()
        uow.commit()
        return message.id


@dataclass(frozen=True)
class Texter:
    user_id: int
    slack_user_id: str
    assignment_id: int


def texter_in(db: Database, org_id: int, campaign_id: int, slack_user_id: str) -> Texter:
    with db.uow(read_only=True) as uow:
        user_id = uow.session.scalar(select(User.id).where(User.slack_user_id == slack_user_id))
    if user_id is None:
        user_id = make_texter(db, org_id, slack_user_id)
    return Texter(user_id, slack_user_id, make_assignment(db, campaign_id, user_id))


def replies(
    db: Database,
    campaign_id: int,
    texter: Texter,
    count: int,
    at: datetime,
    *,
    start: int = 0,
    timezone: str | None = None,
) -> list[int]:
    """`count` contacts held by `texter`, each of whom replied at `at`."""
    ids = add_contacts(
        db,
        campaign_id,
        count,
        status=MessageStatus.MESSAGED,
        assignment_id=texter.assignment_id,
        start=start,
        timezone=timezone,
    )
    for contact_id in ids:
        add_inbound(db, contact_id, at)
    return ids
