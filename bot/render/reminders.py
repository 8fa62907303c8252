"""What a texter sees after clicking Handle replies on a reminder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.render.common import Reply, context, escape, reply, section
from bot.render.replies import reply_blocks
from core.refusals import plural
from core.services.waiting_replies import WaitingReply

SHOWN = 40  # Slack's 50 blocks a message, less the text around them


def waiting_replies(
    title: str, replies: Sequence[WaitingReply], links: Mapping[int, str], now: datetime
) -> Reply:
    if not replies:
        text = f"No replies are waiting in *{escape(title)}*. Thanks for keeping up!"
        return reply(text, [section(text)])
    text = (
        f"{plural(len(replies), 'reply', 'replies')} waiting in *{escape(title)}*, longest "
        "waiting first:"
    )
    return reply(
        text,
        [
            section(text),
            *reply_blocks(replies, links, now, limit=SHOWN),
            context(
                "Open a conversation and answer in its thread: it goes out as a text. Use "
                "Close when no answer is needed."
            ),
        ],
    )
