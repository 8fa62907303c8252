"""How scheduled jobs reach people. core defines the shape; bot/scheduled implements it on Slack."""

from __future__ import annotations

from typing import Protocol

from core.services.digest import OrgDigest
from core.services.reminders import ReminderSummary
from core.services.stale import StaleReleaseNotice


class Notifier(Protocol):
    """Each call either delivers or raises; a raise makes the job retry (reminders, digest)."""

    def send_reply_reminder(self, slack_user_id: str, reminder: ReminderSummary) -> None: ...

    def send_stale_release_notice(self, slack_user_id: str, notice: StaleReleaseNotice) -> None: ...

    def post_digest(self, channel: str, digest: OrgDigest) -> None: ...
