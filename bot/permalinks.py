"""Links to contacts' DM threads (chat.getPermalink), cached: a message's permalink never
changes, and Home, reminders and refusals ask for the same threads again and again."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.render.replies import reply_blocks
from bot.slack_client import TtlCache
from core.services.waiting_replies import WaitingReply

PERMALINK_TTL_SECONDS = 7 * 24 * 60 * 60
MAX_LOOKUPS = 40  # per rendering: past this many, "and N more" carries the rest

log = logging.getLogger("spokebot.permalinks")
_cache: TtlCache[str] = TtlCache(PERMALINK_TTL_SECONDS)


def permalink(client: WebClient, channel_id: str, message_ts: str) -> str | None:
    key = f"{channel_id}:{message_ts}"
    cached = _cache.get(key)
    if cached is not None:
        return cached
    try:
        link = client.chat_getPermalink(channel=channel_id, message_ts=message_ts)["permalink"]
    except (SlackApiError, KeyError, TypeError):
        log.warning("no permalink for a thread in %s", channel_id)
        return None
    _cache.put(key, str(link))
    return str(link)


def reply_link_blocks(
    client: WebClient, replies: list[WaitingReply], campaign_id: int | None, *, limit: int = 10
) -> list[object]:
    """The waiting replies a use case read, each with an Open link, then "and N more" with
    Show all replies: for refusals, Done For Now and the batch card."""
    if not replies:
        return []
    links = thread_links(client, replies, limit)
    return reply_blocks(
        replies, links, datetime.now(UTC), limit=limit, more_value=str(campaign_id or 0)
    )


def thread_links(
    client: WebClient, replies: Iterable[WaitingReply], limit: int = MAX_LOOKUPS
) -> dict[int, str]:
    """contact id -> permalink of the contact's thread, for the first `limit` replies."""
    links: dict[int, str] = {}
    for count, item in enumerate(replies):
        if count >= limit:
            break
        if item.channel_id and item.thread_ts:
            link = permalink(client, item.channel_id, item.thread_ts)
            if link:
                links[item.contact_id] = link
    return links
