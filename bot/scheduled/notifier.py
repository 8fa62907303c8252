"""SlackNotifier: the scheduled jobs' Notifier on Slack's Web API.

Every failure surfaces as an exception (slack_sdk raises SlackApiError on ok=false), which is
what tells the job to undo its claim and retry next tick. Each message goes out with the token
of the organization it is about; a token Slack refuses outright (revoked, account_inactive)
becomes WorkspaceUnavailable, so the job sets that organization aside for the tick.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.scheduled import render
from bot.workspaces import SingleWorkspace, Workspaces, workspace_error
from core.scheduler.notifier import WorkspaceUnavailable
from core.services.digest import OrgDigest
from core.services.reminders import ReminderSummary
from core.services.stale import StaleReleaseNotice

MAX_CACHED_DMS = 10_000
T = TypeVar("T")


def make_client(token: str, api_url: str | None = None) -> WebClient:
    """A Web API client that waits out 429s and retries 5xx and dropped connections a little."""
    kwargs: dict[str, str] = {}
    if api_url:
        kwargs["base_url"] = api_url if api_url.endswith("/") else api_url + "/"
    return WebClient(
        token=token,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
        **kwargs,  # type: ignore[arg-type]
    )


class SlackNotifier:
    """DMs through conversations.open (channel ids cached: they never change for a user)."""

    def __init__(self, workspaces: Workspaces | WebClient) -> None:
        # A bare client: one token for every organization (single-workspace mode).
        if isinstance(workspaces, WebClient):
            workspaces = SingleWorkspace(workspaces)
        self._workspaces = workspaces
        self._dm_channels: dict[tuple[int, str], str] = {}
        self._lock = threading.Lock()

    def check_workspace(self, organization_id: int) -> None:
        self._workspaces.client_for_organization(organization_id)

    def send_reply_reminder(self, slack_user_id: str, reminder: ReminderSummary) -> None:
        self._dm(reminder.organization_id, slack_user_id, render.reply_reminder(reminder))

    def send_stale_release_notice(self, slack_user_id: str, notice: StaleReleaseNotice) -> None:
        message = render.stale_release_notice(notice)
        self._dm(notice.organization_id, slack_user_id, message)

    def post_digest(self, channel: str, digest: OrgDigest) -> None:
        self._call(
            digest.organization_id,
            lambda client: client.chat_postMessage(channel=channel, **render.digest(digest)),
        )

    def _dm(self, organization_id: int, slack_user_id: str, message: render.Message) -> None:
        def send(client: WebClient) -> None:
            channel = self._dm_channel(client, organization_id, slack_user_id)
            client.chat_postMessage(channel=channel, **message)

        self._call(organization_id, send)

    def _call(self, organization_id: int, work: Callable[[WebClient], T]) -> T:
        client = self._workspaces.client_for_organization(organization_id)
        try:
            return work(client)
        except SlackApiError as error:
            reason = workspace_error(error)
            if reason is None:
                raise
            raise WorkspaceUnavailable(organization_id, None, reason) from None

    def _dm_channel(self, client: WebClient, organization_id: int, slack_user_id: str) -> str:
        key = (organization_id, slack_user_id)
        with self._lock:
            cached = self._dm_channels.get(key)
        if cached:
            return cached
        channel = client.conversations_open(users=slack_user_id)["channel"]["id"]
        with self._lock:
            if len(self._dm_channels) >= MAX_CACHED_DMS:
                self._dm_channels.clear()
            self._dm_channels[key] = channel
        return channel
