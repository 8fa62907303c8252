"""Waiting replies as lines with an Open button linking to the contact's DM thread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import ids
from bot.render.common import actions, button, clip, context, escape
from core.refusals import plural
from core.services.waiting_replies import WaitingReply

FIRST_WORDS = 60


def waited(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    minutes = max(int((now - since).total_seconds() // 60), 0)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def reply_line(item: WaitingReply, now: datetime) -> str:
    words = clip(" ".join(item.text.split()), FIRST_WORDS)
    line = f"*{escape(item.contact_name)}*"
    if words:
        line += f": “{escape(words)}”"
    how_long = waited(item.since, now)
    if how_long:
        line += f" · waiting {how_long}" if how_long != "just now" else " · just now"
    return line


def reply_blocks(
    replies: Sequence[WaitingReply],
    links: Mapping[int, str],
    now: datetime,
    *,
    limit: int,
    more_value: str | None = None,
) -> list[Any]:
    """One section per reply (up to `limit`), with Open when its thread has a link; then
    "and N more" (with a Show all button when `more_value` is given)."""
    blocks: list[Any] = []
    for item in replies[:limit]:
        link = links.get(item.contact_id)
        text = MarkdownTextObject(text=clip(reply_line(item, now), 3000))
        if link:
            blocks.append(
                SectionBlock(
                    text=text,
                    accessory=ButtonElement(
                        text=PlainTextObject(text="Open"),
                        action_id=ids.OPEN_THREAD,
                        url=link,
                        value=str(item.contact_id),
                    ),
                )
            )
        else:
            blocks.append(SectionBlock(text=text))
    hidden = len(replies) - min(len(replies), limit)
    if hidden > 0:
        more = f"…and {plural(hidden, 'more reply', 'more replies')}."
        if more_value is not None:
            blocks.append(context(more))
            blocks.append(actions(button("Show all replies", ids.SHOW_REPLIES, more_value)))
        else:
            blocks.append(context(more))
    return blocks


def reply_mrkdwn_links(
    replies: Sequence[WaitingReply], links: Mapping[int, str], limit: int = 10
) -> str:
    """Inline links for a sentence: "<link|Sam>, <link|Jo> and 3 more"."""
    parts = []
    for item in replies[:limit]:
        name = escape(item.contact_name)
        link = links.get(item.contact_id)
        parts.append(f"<{link}|{name}>" if link else name)
    hidden = len(replies) - len(parts)
    if hidden > 0:
        parts.append(f"{hidden} more")
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
