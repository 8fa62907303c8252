"""Block Kit for what the timed jobs send (reply reminders, stale-release notices, the admin
digest), clipped to Slack's limits (never rejected)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.ids import HANDLE_REPLIES_ACTION
from bot.render.common import (
    MAX_BUTTON_TEXT,
    MAX_CONTEXT_TEXT,
    MAX_FALLBACK_TEXT,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    clip,
    escape,
)
from bot.render.progress import progress_cells
from core.progress import whole_percent
from core.services.digest import CampaignDigest, OrgDigest
from core.services.reminders import ReminderSummary
from core.services.stale import StaleReleaseNotice

Message = dict[str, Any]  # chat.postMessage keyword arguments: text + blocks

MAX_FIELD_TEXT = 2000
# Leave room under 50 blocks for the header, the intro and a "more not shown" line.
MAX_LISTED = 20


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _message(text: str, blocks: list[Message]) -> Message:
    # MAX_LISTED keeps every message well under the limit; the slice is a last guard.
    return {"text": clip(text, MAX_FALLBACK_TEXT), "blocks": blocks[:MAX_MESSAGE_BLOCKS]}


def _header(text: str) -> Message:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER_TEXT)}}


def _section(mrkdwn: str, **extra: Any) -> Message:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(mrkdwn, MAX_SECTION_TEXT)},
        **extra,
    }


def _context(mrkdwn: str) -> Message:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, MAX_CONTEXT_TEXT)}],
    }


def _since(moment: datetime) -> str:
    # Slack shows the date in the reader's own time zone; the fallback is UTC.
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _more(hidden: int, what: str) -> list[Message]:
    return [_context(f"…and {_plural(hidden, what)} more not shown.")] if hidden > 0 else []


def reply_reminder(reminder: ReminderSummary) -> Message:
    """The DM: replies waiting per campaign, each with a Handle replies button."""
    total = _plural(reminder.total, "reply", "replies")
    blocks = [
        _header("Replies are waiting for you"),
        _section(f"*{total}* waiting for an answer. The people who wrote back are waiting too."),
    ]
    for campaign in reminder.campaigns[:MAX_LISTED]:
        waiting = _plural(campaign.waiting, "reply", "replies")
        blocks.append(
            _section(
                f"*{escape(campaign.title)}*\n{waiting}, the oldest since "
                f"{_since(campaign.oldest_reply_at)}",
                accessory={
                    "type": "button",
                    "action_id": HANDLE_REPLIES_ACTION,
                    "text": {"type": "plain_text", "text": clip("Handle replies", MAX_BUTTON_TEXT)},
                    "value": str(campaign.campaign_id),
                    "style": "primary",
                },
            )
        )
    blocks += _more(len(reminder.campaigns) - MAX_LISTED, "campaign")
    return _message(f"You have {total} waiting for an answer.", blocks)


def stale_release_notice(notice: StaleReleaseNotice) -> Message:
    """The DM telling a texter what went back to the pool, per campaign."""
    lines = []
    for campaign in notice.campaigns[:MAX_LISTED]:
        parts = []
        if campaign.replies:
            parts.append(_plural(campaign.replies, "unanswered reply", "unanswered replies"))
        if campaign.initials:
            parts.append(_plural(campaign.initials, "unsent first text"))
        lines.append(f"• *{escape(campaign.title)}*: {' and '.join(parts)}")
    intro = (
        "Some of your contacts waited too long, so they went back to the pool "
        "for other texters to pick up:"
    )
    blocks = [_section(intro), _section("\n".join(lines))]
    blocks += _more(len(notice.campaigns) - MAX_LISTED, "campaign")
    text = (
        f"{_plural(notice.replies + notice.initials, 'contact')} went back to the pool "
        "because they waited too long."
    )
    return _message(text, blocks)


def _campaign_digest(campaign: CampaignDigest) -> Message:
    sent, textable = campaign.first_texts_sent, campaign.textable
    return _section(
        f"*{escape(campaign.title)}*\n`{progress_cells(sent, textable)}` "
        f"{whole_percent(sent, textable)}% of first "
        f"texts sent ({campaign.first_texts_sent:,} of {campaign.textable:,})",
        fields=[
            {"type": "mrkdwn", "text": clip(f"*{label}*\n{value:,}", MAX_FIELD_TEXT)}
            for label, value in (
                ("Texters active", campaign.texters_active),
                ("Unsent first texts held", campaign.unsent_held),
                ("Replies waiting", campaign.replies_waiting),
            )
        ],
    )


def digest(digest: OrgDigest) -> Message:
    """The channel post: one section per campaign in progress."""
    blocks = [_header(f"Daily texting digest, {digest.day:%A %-d %B}")]
    for campaign in digest.campaigns[:MAX_LISTED]:
        blocks += [_campaign_digest(campaign), {"type": "divider"}]
    blocks += _more(len(digest.campaigns) - MAX_LISTED, "campaign")
    count = _plural(len(digest.campaigns), "campaign")
    return _message(f"Daily texting digest: {count} in progress.", blocks)
