"""The one Web API client factory (slack-sdk's retry handlers, SLACK_API_URL) and the one
cached lookup of names and DM channels in front of it."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.settings import Settings

NAME_TTL_SECONDS = 15 * 60
DM_TTL_SECONDS = 24 * 60 * 60
MAX_CACHED = 10_000

T = TypeVar("T")


def make_web_client(settings: Settings, *, token: str | None = None) -> WebClient:
    """Every client spokebot calls Slack with: `spokebot serve` (Bolt copies these handlers and
    SLACK_API_URL into the client it gives each listener), the scheduler, the CLI, and each
    workspace's token (bot.workspaces). 429s wait for Retry-After; 5xx and dropped
    connections are retried a few times. The token: `token` when given, else the bot token
    (none at all with Add to Slack)."""
    kwargs: dict[str, object] = {}
    if settings.api_url:  # slack_sdk joins base_url and the method name as strings
        url = settings.api_url
        kwargs["base_url"] = url if url.endswith("/") else url + "/"
    return WebClient(
        token=token if token is not None else (settings.bot_token or None),
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
        **kwargs,  # type: ignore[arg-type]
    )


class TtlCache(Generic[T]):
    """A small thread-safe cache; listeners run on many worker threads."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._items: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < self._clock():
                return None
            return item[1]

    def put(self, key: str, value: T) -> None:
        with self._lock:
            if len(self._items) >= MAX_CACHED:
                self._items.clear()
            self._items[key] = (self._clock() + self._ttl, value)


class SlackDirectory:
    """Names from users.info and DM channel ids from conversations.open, cached."""

    def __init__(self) -> None:
        self.names: TtlCache[str] = TtlCache(NAME_TTL_SECONDS)
        self.dm_channels: TtlCache[str] = TtlCache(DM_TTL_SECONDS)

    def display_name(self, client: WebClient, slack_user_id: str) -> str | None:
        """The person's name, or None when Slack won't say (the user is created unnamed)."""
        cached = self.names.get(slack_user_id)
        if cached is not None:
            return cached
        try:
            user = client.users_info(user=slack_user_id)["user"]
        except SlackApiError:
            return None  # a name is nice to have; never block a texter on it
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or ""
        )
        self.names.put(slack_user_id, name)
        return name or None

    def dm_channel(self, client: WebClient, slack_user_id: str) -> str:
        # A DM channel belongs to a workspace's bot: with many workspaces (whose users can
        # share ids in an Enterprise Grid) the key names the token's workspace too.
        key = f"{_token_key(client.token)}:{slack_user_id}"
        cached = self.dm_channels.get(key)
        if cached is not None:
            return cached
        channel = client.conversations_open(users=slack_user_id)["channel"]["id"]
        self.dm_channels.put(key, channel)
        return channel


def _token_key(token: str | None) -> str:
    """A short stand-in for a token, so caches never hold the token itself."""
    return hashlib.sha256((token or "").encode()).hexdigest()[:16]
