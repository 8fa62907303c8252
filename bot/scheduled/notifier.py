"""SlackNotifier: the scheduled jobs' Notifier on Slack's Web API.

Every failure surfaces as an exception (slack_sdk raises SlackApiError on ok=false), which is
what tells the job to undo its claim and retry next tick.
"""

from __future__ import annotations

import threading

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.scheduled import render
from core.services.digest import OrgDigest
from core.services.reminders import ReminderSummary
from core.services.stale import StaleReleaseNotice

MAX_CACHED_DMS = 10_000


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

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._dm_channels: dict[str, str] = {}
        self._lock = threading.Lock()

    def send_reply_reminder(self, slack_user_id: str, reminder: ReminderSummary) -> None:
        self._dm(slack_user_id, render.reply_reminder(reminder))

    def send_stale_release_notice(self, slack_user_id: str, notice: StaleReleaseNotice) -> None:
        self._dm(slack_user_id, render.stale_release_notice(notice))

    def post_digest(self, channel: str, digest: OrgDigest) -> None:
        self._client.chat_postMessage(channel=channel, **render.digest(digest))

    def _dm(self, slack_user_id: str, message: render.Message) -> None:
        self._client.chat_postMessage(channel=self._dm_channel(slack_user_id), **message)

    def _dm_channel(self, slack_user_id: str) -> str:
        with self._lock:
            cached = self._dm_channels.get(slack_user_id)
        if cached:
            return cached
        channel = self._client.conversations_open(users=slack_user_id)["channel"]["id"]
        with self._lock:
            if len(self._dm_channels) >= MAX_CACHED_DMS:
                self._dm_channels.clear()
            self._dm_channels[slack_user_id] = channel
        return channel
