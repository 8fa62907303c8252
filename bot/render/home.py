"""The texter's App Home: per campaign, work held and what they can do next."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import Block

from bot import ids
from bot.render.common import (
    MAX_HOME_BLOCKS,
    actions,
    button,
    confirm,
    context,
    divider,
    escape,
    header,
    section,
)
from bot.render.replies import reply_blocks
from core.refusals import plural
from core.services.texter_home import TexterCampaign, request_prompt_of
from core.services.waiting_replies import WaitingReply

BLOCKS_PER_CAMPAIGN = 5
MAX_CAMPAIGNS_SHOWN = 18  # 5 blocks each + header, notice and footer: under 100
REPLIES_PER_CAMPAIGN = 3  # then "and N more" with Show all replies (a DM with every link)


def home_view(
    campaigns: Sequence[TexterCampaign],
    *,
    done_for_the_day_enabled: bool,
    notice: str | None = None,
    admin_blocks: Sequence[Block] = (),
    replies: Sequence[WaitingReply] = (),
    links: Mapping[int, str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The texter's campaigns; for supervolunteers and admins, `admin_blocks` (their
    campaigns with progress bars and quick actions) follow, and fewer texter campaigns are
    shown so the whole view stays within Home's block limit."""
    shown = MAX_CAMPAIGNS_SHOWN
    if admin_blocks:
        shown = min(shown, (MAX_HOME_BLOCKS - 3 - len(admin_blocks)) // BLOCKS_PER_CAMPAIGN)
    blocks = [header("Your campaigns")]
    if notice:
        blocks.append(section(notice))
    if not campaigns:
        blocks.append(
            section(
                "You haven't joined any campaigns yet. Click the *Join* button on a campaign's "
                "join link to start texting."
            )
        )
    by_campaign: dict[int, list[WaitingReply]] = {}
    for item in replies:
        by_campaign.setdefault(item.campaign_id, []).append(item)
    # Waiting replies make campaigns taller: stop before Home's block limit.
    budget = MAX_HOME_BLOCKS - len(blocks) - len(admin_blocks) - 1
    listed = 0
    for campaign in list(campaigns)[:shown]:
        more = _campaign_blocks(
            campaign,
            done_for_the_day_enabled,
            by_campaign.get(campaign.campaign_id, []),
            links or {},
            now or datetime.now(UTC),
        )
        if len(more) > budget:
            break
        blocks += more
        budget -= len(more)
        listed += 1
    hidden = len(campaigns) - listed
    if hidden > 0:
        blocks.append(context(f"…and {plural(hidden, 'more campaign')} not shown."))
    blocks += admin_blocks
    assert len(blocks) <= MAX_HOME_BLOCKS
    return {"type": "home", "blocks": [b.to_dict() for b in blocks]}


def _campaign_blocks(
    campaign: TexterCampaign,
    done_enabled: bool,
    replies: Sequence[WaitingReply],
    links: Mapping[int, str],
    now: datetime,
) -> list[Any]:
    title = escape(campaign.title)
    lines = [f"*{title}*"]
    if campaign.description:
        lines.append(escape(campaign.description))
    status = (
        f"{plural(campaign.unsent, 'first text')} to send · "
        f"{plural(campaign.waiting_replies, 'reply', 'replies')} waiting"
    )
    if campaign.texting_hours:
        status += f" · texting hours {escape(campaign.texting_hours)}"
    blocks: list[Any] = [section("\n".join(lines)), context(status)]
    value = ids.campaign_value(campaign.campaign_id)
    blocks += reply_blocks(replies, links, now, limit=REPLIES_PER_CAMPAIGN, more_value=value)
    buttons = []
    eligibility = campaign.eligibility
    prompt = request_prompt_of(campaign.settings)
    if campaign.unsent:
        # Brings the send card back (to their DMs) with the first texts they hold.
        label = f"Send First Texts ({campaign.unsent})"
        buttons.append(button(label, ids.SEND_FIRST_TEXTS, value, style="primary"))
    elif eligibility.can_request and not campaign.holds_any:
        buttons.append(button("Send First Texts", ids.SEND_FIRST_TEXTS, value, style="primary"))
    elif eligibility.can_request:
        if prompt.message:
            blocks.append(section(escape(prompt.message)))
        buttons.append(button(prompt.label, ids.REQUEST_MORE, value, style="primary"))
    if campaign.can_take_conversations and campaign.waiting_to_take:
        waiting = campaign.waiting_to_take
        label = f"Take conversations ({'100+' if waiting >= 100 else waiting} waiting)"
        buttons.append(button(label, ids.TAKE_CONVERSATIONS, value))
    if done_enabled:
        buttons.append(
            button(
                "Done for the Day",
                ids.DONE_FOR_THE_DAY,
                value,
                confirmation=confirm(
                    "Done for the Day?",
                    f"This releases your unsent first texts in {title} so other texters can "
                    "send them.",
                    "Yes, release them",
                ),
            )
        )
    if eligibility.refusal is not None and not campaign.unsent:
        # Block Kit has no disabled buttons: say why instead.
        blocks.append(context(eligibility.refusal.message))
    if buttons:
        blocks.append(actions(*buttons))
    blocks.append(divider())
    return blocks


def unknown_workspace_view(message: str) -> dict[str, Any]:
    return {"type": "home", "blocks": [header("spokebot").to_dict(), section(message).to_dict()]}
