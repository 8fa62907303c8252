"""A contact's conversation as a DM thread: the root (history, status, Close / Opt out) and
the messages posted in it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock

from bot import ids
from bot.render.common import Reply, button, clip, confirm, context, escape, reply, section
from bot.render.replies import reply_blocks
from bot.render.send_card import contact_name
from core.refusals import plural
from core.services.texter_home import TexterCampaign
from core.services.texting import Thread
from core.services.waiting_replies import WaitingReply
from core.statuses import Direction, MessageStatus

MAX_HISTORY_SHOWN = 10  # the root shows the latest messages; the thread carries the rest
MAX_TAKEN_HISTORY = 40  # a taken conversation's root holds what came before it (no thread yet)
MAX_LINE = 280


def _first_name(thread: Thread) -> str:
    return thread.first_name or contact_name(thread.first_name, thread.last_name, thread.cell)


def _status_line(thread: Thread, moved_to: str | None = None) -> str:
    if moved_to:
        return f"➡️ Moved to <@{moved_to}>: they answer this conversation now."
    if thread.is_opted_out:
        return "🚫 Opted out: they won't be texted again."
    status = thread.contact_status
    if status == MessageStatus.NEEDS_RESPONSE.value:
        return "⏳ Waiting for your answer: reply in this thread to text them."
    if status == MessageStatus.CLOSED.value:
        return "Closed: no reply needed. A new text from them reopens it."
    if status == MessageStatus.CONVO.value:
        return "✓ Answered. Reply in this thread to text them again."
    return "Reply in this thread to text them."


def _when(moment: datetime) -> str:
    """Slack shows the date in the reader's own time zone; the fallback is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    fallback = moment.astimezone(UTC).strftime("%b %d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _history_sections(lines: list[str]) -> list[Any]:
    """History lines in as few sections as Slack's 3,000 characters allow."""
    sections, chunk = [], ""
    for line in lines:
        if chunk and len(chunk) + len(line) + 1 > 2900:
            sections.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        sections.append(section(chunk))
    return sections


def thread_root(
    thread: Thread,
    campaign_title: str,
    *,
    exclude_message_id: int | None = None,
    viewer: int | None = None,
    names: Mapping[int, str] | None = None,
    moved_to: str | None = None,
    full_history: bool = False,
) -> Reply:
    """The thread's first message. `exclude_message_id`: the reply about to be posted in the
    thread, so it isn't shown twice. With `viewer` and `names`, each message says who sent it
    ("You" for the viewer's own) and when; `full_history` (a conversation taken from someone
    else) shows up to MAX_TAKEN_HISTORY messages instead of the latest few."""
    name = contact_name(thread.first_name, thread.last_name, thread.cell)
    first = _first_name(thread)
    blocks: list[Any] = [section(f"*Conversation with {escape(name)}* · {escape(campaign_title)}")]
    most = MAX_TAKEN_HISTORY if full_history else MAX_HISTORY_SHOWN
    shown = [m for m in thread.messages if m.id != exclude_message_id][-most:]
    lines = []
    for message in shown:
        if message.direction != Direction.OUTBOUND.value:
            who = escape(first)
        elif names is None or message.user_id == viewer:
            who = "You"
        else:
            who = escape(names.get(message.user_id or 0, "Another texter"))
        when = f" · {_when(message.created_at)}" if names is not None else ""
        lines.append(f"*{who}*{when}: {escape(clip(message.text, MAX_LINE))}")
    blocks += _history_sections(lines)
    blocks.append(context(_status_line(thread, moved_to)))
    value = ids.thread_value(thread.contact_id)
    buttons = []
    if not thread.is_opted_out and not moved_to:
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


def reply_failed(
    first_name: str, error: str | None, contact_id: int | None = None, message_id: int | None = None
) -> Reply:
    why = f" ({escape(error)})" if error else ""
    blocks: list[Any] = [section(f"⚠️ Your text to {escape(first_name)} was *not sent*{why}.")]
    if contact_id is not None and message_id is not None:
        blocks.append(
            ActionsBlock(
                block_id=ids.fresh_block_id(ids.THREAD_BLOCK),
                elements=[
                    button(
                        "Retry",
                        ids.THREAD_RETRY,
                        ids.retry_value(contact_id, message_id),
                        style="primary",
                    )
                ],
            )
        )
        blocks.append(context("Or reply again in this thread."))
    return reply(f"Not sent to {first_name}", blocks)


def retried(first_name: str) -> Reply:
    return reply(f"Sent to {first_name}", [context(f"✓ Sent to {escape(first_name)} on retry.")])


def dm_help(
    replies: Sequence[WaitingReply],
    links: Mapping[int, str],
    campaigns: Sequence[TexterCampaign],
    now: datetime,
) -> Reply:
    """The answer to a message typed at the top level of the bot's DM."""
    if replies:
        text = (
            "I can't send that to anyone: *to answer a contact, reply in their thread*. "
            f"{plural(len(replies), 'reply is', 'replies are')} waiting for you:"
        )
        blocks = [section(text), *reply_blocks(replies, links, now, limit=40)]
        return reply(text, blocks)
    if not campaigns:
        text = (
            "I only pass on texts you write in a contact's thread (one that was released or "
            "moved to another texter is no longer yours). You haven't joined a "
            "campaign yet: click *Join* on a campaign's join link to start."
        )
        return reply(text, [section(text)])
    names = ", ".join(f"*{escape(c.title)}*" for c in campaigns[:5])
    text = (
        "I only pass on texts you write in a contact's thread (one that was released or moved "
        "to another texter is no longer yours), and no replies are waiting for you. Your "
        f"campaigns: {names}. Next: `/sendfirsttexts` for first texts"
    )
    if any(c.can_take_conversations for c in campaigns):
        text += ", `/takeconversations` to take conversations"
    text += ", `/doneforday` to release what you hold; the app's Home tab has it all."
    buttons = [
        button("Send First Texts", ids.SEND_FIRST_TEXTS, ids.campaign_value(c.campaign_id))
        for c in campaigns[:1]
        if c.eligibility.can_request
    ]
    blocks: list[Any] = [section(text)]
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return reply(text, blocks)


def refused(message: str) -> Reply:
    return reply(message, [section(message)])


def pending_notice(name: str, error: str | None) -> str:
    """A send whose outcome the message service never reported: being checked, not resent."""
    why = f" ({error})" if error else ""
    return (
        f"⏳ Checking whether this went out to {name}: the message service didn't answer{why}. "
        "It won't be sent again unless it didn't go out; you'll see it here if it needs sending."
    )
