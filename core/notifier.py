"""What core asks of Slack: tell a texter of a reply, send the timed jobs' reminders, notices
and digest. core defines the shape; bot.notify implements it on Slack."""

from __future__ import annotations

from typing import Protocol

from core.services.digest import OrgDigest
from core.services.reminders import ReminderSummary
from core.services.stale import StaleReleaseNotice
from core.services.texting import InboundResult


class WorkspaceUnavailable(Exception):
    """An organization's Slack workspace can't be reached at all: never installed, uninstalled,
    its token revoked or the workspace deactivated. Nothing for it is sent until that changes;
    the other organizations' work goes on."""

    def __init__(self, organization_id: int | None, team_id: str | None, reason: str) -> None:
        super().__init__(f"workspace {team_id or '(none)'} unavailable: {reason}")
        self.organization_id = organization_id
        self.team_id = team_id
        self.reason = reason


class Notifier(Protocol):
    """Each call either delivers or raises; a raise makes the job retry (reminders, digest).
    WorkspaceUnavailable means the whole organization is out of reach for this tick."""

    def send_reply_reminder(self, slack_user_id: str, reminder: ReminderSummary) -> None: ...

    def send_stale_release_notice(self, slack_user_id: str, notice: StaleReleaseNotice) -> None: ...

    def post_digest(self, channel: str, digest: OrgDigest) -> None: ...

    def check_workspace(self, organization_id: int) -> None:
        """Raises WorkspaceUnavailable when the organization can't be reached now."""
        ...


class TexterNotifier(Protocol):
    """Tells the owning texter about an inbound reply (after receive_inbound committed it)."""

    def notify_inbound(self, result: InboundResult) -> None: ...
