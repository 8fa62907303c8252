"""A contact's conversation as a DM thread: the root (history, status, Close / Opt out) and
the messages posted in it."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock

from bot import ids
from bot.render.common import Reply, button, clip, confirm, context, escape, reply, section
from bot.render.send_card import contact_name
from core.services.texting import Thread
from core.statuses import Direction, MessageStatus

MAX_HISTORY_SHOWN = 10  # the root shows the latest messages; the thread carries the rest
MAX_LINE = 280


def _first_name(thread: Thread) -> str:
    return thread.first_name or contact_name(thread.first_name, thread.last_name, thread.cell)


def _status_line(thread: Thread) -> str:
    if thread.is_opted_out:
        return "Opted out: they won't be texted again."
    status = thread.contact_status
    if status == MessageStatus.NEEDS_RESPONSE.value:
        return "Waiting for your answer: reply in this thread to text them."
    if status == MessageStatus.CLOSED.value:
        return "Closed: no reply needed. A new text from them reopens it."
    return "Reply in this thread to text them."


def thread_root(
    thread: Thread, campaign_title: str, *, exclude_message_id: int | None = None
) -> Reply:
    """The thread's first message. `exclude_message_id`: the reply about to be posted in the
    thread, so it isn't shown twice."""
    name = contact_name(thread.first_name, thread.last_name, thread.cell)
    first = _first_name(thread)
    blocks: list[Any] = [section(f"*Conversation with {escape(name)}* · {escape(campaign_title)}")]
    shown = [m for m in thread.messages if m.id != exclude_message_id][-MAX_HISTORY_SHOWN:]
    lines = []
    for message in shown:
        who = "You" if message.direction == Direction.OUTBOUND.value else escape(first)
        lines.append(f"*{who}:* {escape(clip(message.text, MAX_LINE))}")
    if lines:
        blocks.append(section("\n".join(lines)))
    blocks.append(context(_status_line(thread)))
    value = ids.thread_value(thread.contact_id)
    buttons = []
    if not thread.is_opted_out:
        if thread.contact_status != MessageStatus.CLOSED.value:
            buttons.append(button("Close", ids.THREAD_CLOSE, value))
        buttons.append(
            button(
                "Opt out",
                ids.THREAD_OPT_OUT,
                value,
                style="danger",
                confirmation=confirm(
                    f"Opt out {name}?",
                    f"{escape(name)} will never be texted again by any campaign of this "
                    "organization.",
                    "Opt out",
                ),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=ids.fresh_block_id(ids.THREAD_BLOCK), elements=buttons))
    return reply(f"Conversation with {name} ({campaign_title})", blocks)


def inbound(first_name: str, text: str) -> Reply:
    return reply(
        f"{first_name} replied: {text}",
        [section(f"*{escape(first_name)} replied:* {escape(text) or '_(empty)_'}")],
    )


def opted_out_by_keyword(first_name: str, text: str) -> Reply:
    return reply(
        f"{first_name} opted out",
        [
            section(
                f"*{escape(first_name)} replied “{escape(clip(text.strip(), 60))}”* and is now "
                "opted out: they won't be texted again by any campaign of this organization. "
                "No answer needed."
            )
        ],
    )


def reply_sent(first_name: str) -> Reply:
    return reply(f"Sent to {first_name}", [context(f"✓ Sent to {escape(first_name)}.")])


def reply_failed(first_name: str, error: str | None) -> Reply:
    why = f" ({escape(error)})" if error else ""
    return reply(
        f"Not sent to {first_name}",
        [
            section(
                f"⚠️ Your text to {escape(first_name)} was *not sent*{why}. Reply again in this "
                "thread to retry."
            )
        ],
    )


def refused(message: str) -> Reply:
    return reply(message, [section(message)])
