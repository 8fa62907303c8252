"""Taking conversations and the replies a texter owes: what each person is told."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot import ids
from bot.render.common import Reply, actions, button, escape, reply, section, text_reply
from bot.render.replies import reply_blocks
from core.refusals import Refusal, plural
from core.services.conversations import TakeableCampaign, TakeResult
from core.services.waiting_replies import WaitingReply

MAX_LINKS_IN_MESSAGE = 40  # Slack allows 50 blocks a message: room for the rest


def take_button(campaign_id: int) -> object:
    return button("Take conversations", ids.TAKE_CONVERSATIONS, ids.campaign_value(campaign_id))


def taken(
    result: TakeResult, replies: Sequence[WaitingReply], links: Mapping[int, str], now: datetime
) -> Reply:
    title = escape(result.campaign_title)
    text = (
        f"You took {plural(result.taken, 'conversation')} in *{title}*. Each one is a thread "
        "in your DMs with the conversation so far: reply in the thread to text them."
    )
    if result.cap_note:
        text += f" {result.cap_note}"
    blocks = [section(text), *reply_blocks(replies, links, now, limit=MAX_LINKS_IN_MESSAGE)]
    return reply(text, blocks)


def take_refused(
    result: TakeResult,
    replies: Sequence[WaitingReply],
    links: Mapping[int, str],
    now: datetime,
) -> Reply:
    refusal = result.refusal
    assert refusal is not None
    text = f"*{escape(result.campaign_title)}*: {escape(refusal.message)}"
    blocks = [section(text)]
    if replies:
        blocks += reply_blocks(
            replies, links, now, limit=MAX_LINKS_IN_MESSAGE, more_value=str(result.campaign_id)
        )
    return reply(refusal.message, blocks)


def no_takeable_campaigns() -> Reply:
    return text_reply(
        "No campaign of this organization lets texters take conversations right now. "
        "An admin can turn it on with the “vetted-takeconversations” strategy in "
        "`/campaign settings`."
    )


def pick_takeable(campaigns: Sequence[TakeableCampaign], argument: str) -> Reply:
    names = ", ".join(f"{c.campaign_id} ({escape(c.title)})" for c in campaigns[:25])
    intro = (
        f"No campaign matches “{escape(argument)}”."
        if argument
        else "Which campaign do you want to take conversations in?"
    )
    buttons = [
        button(c.title, ids.TAKE_CONVERSATIONS, ids.campaign_value(c.campaign_id))
        for c in campaigns[:25]
    ]
    text = f"{intro} Campaigns you can take conversations in: {names}."
    return reply(text, [section(text), actions(*buttons)])


def replies_list(
    replies: Sequence[WaitingReply], links: Mapping[int, str], now: datetime, heading: str
) -> Reply:
    blocks = [section(heading), *reply_blocks(replies, links, now, limit=MAX_LINKS_IN_MESSAGE)]
    return reply(heading, blocks)


def refusal_with_replies(
    refusal: Refusal | None,
    replies: Sequence[WaitingReply],
    links: Mapping[int, str],
    now: datetime,
    campaign_id: int,
) -> list[object]:
    """The reply links under a "finish your replies first" refusal (empty otherwise)."""
    if refusal is None or not replies:
        return []
    return reply_blocks(replies, links, now, limit=10, more_value=str(campaign_id))
