"""What admins see: campaign lists and stats with progress bars, the Texters panel, Message
Review, import reports and the admin part of Home. The admin modals are in admin_modals."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
)

from bot import ids
from bot.render.common import (
    MAX_MESSAGE_BLOCKS,
    Reply,
    actions,
    button,
    clip,
    confirm,
    context,
    divider,
    escape,
    header,
    reply,
    section,
    text_reply,
)
from bot.render.conversations_admin import selection_blocks
from bot.render.progress import progress_bar
from core.refusals import plural
from core.services.contact_import import ImportReport
from core.services.release import ReleaseResult
from core.services.stats import CampaignStats, ContactRow, TexterRow
from core.services.texter_home import HOME_CAMPAIGNS_RUN
from core.statuses import MessageStatus

# Two blocks per texter (their numbers, their buttons) plus header, notice, context and the
# paging buttons: 18 texters use 40 of a message's 50 blocks.
TEXTERS_PER_PAGE = 18
REVIEW_ROWS_SHOWN = 20
LIST_CAMPAIGNS_SHOWN = 40
HOME_CAMPAIGNS_SHOWN = HOME_CAMPAIGNS_RUN  # what core reads for Home
SKIPPED_LINES_SHOWN = 20

STATUS_WORDS = {
    MessageStatus.NEEDS_MESSAGE: "Needs First Message",
    MessageStatus.MESSAGED: "Messaged",
    MessageStatus.NEEDS_RESPONSE: "Needs Response",
    MessageStatus.CONVO: "Conversation",
    MessageStatus.CLOSED: "Closed",
}


def _campaign_line(stats: CampaignStats) -> str:
    campaign = stats.campaign
    return (
        f"*{campaign.id}* · {escape(campaign.title)} · _{campaign.status}_\n"
        f"`{progress_bar(stats.sent, stats.textable)}` "
        f"{plural(stats.initials_unsent, 'first text')} to send · "
        f"{plural(stats.texters, 'texter')}"
    )


def campaign_list(campaigns: Sequence[CampaignStats], total: int) -> Reply:
    """The newest campaigns (at most LIST_CAMPAIGNS_SHOWN) of `total`."""
    if not campaigns:
        return text_reply("This organization has no campaigns yet.")
    blocks: list[Block] = [header("Campaigns")]
    shown = list(campaigns)[:LIST_CAMPAIGNS_SHOWN]
    blocks += [section(_campaign_line(stats)) for stats in shown]
    if total > len(shown):
        blocks.append(context(f"…and {plural(total - len(shown), 'older campaign')}."))
    blocks.append(context("`/campaign stats ID` for a campaign's details."))
    return reply(f"{plural(total, 'campaign')}", blocks)


def campaign_stats(stats: CampaignStats, texters_holding_unsent: int) -> Reply:
    campaign = stats.campaign
    lines = [
        f"*Progress:* `{progress_bar(stats.sent, stats.textable)}` of first texts sent "
        f"({stats.sent} of {stats.textable})",
    ]
    if stats.all_initials_sent:
        lines.append("*All first texts have been sent.*")
    else:
        lines.append(
            f"{plural(stats.initials_unsent, 'first text')} still to send: "
            f"{stats.unassigned_initials} unassigned, "
            f"{stats.initials_unsent - stats.unassigned_initials} held by "
            f"{plural(texters_holding_unsent, 'texter')}."
        )
    counts = " · ".join(
        f"{STATUS_WORDS[status]}: {stats.by_status.get(status.value, 0)}" for status in STATUS_WORDS
    )
    lines.append(counts)
    opted = f"Opted out: {stats.opted_out}"
    if stats.opted_out_after_text:
        opted += f" ({stats.opted_out_after_text} after their first text, counted as sent)"
    lines.append(f"{opted} · Contacts: {stats.total} · Texters: {stats.texters}")
    lines.append(f"Texting hours: {escape(campaign.texting_hours)}")
    text = "\n".join(lines)
    blocks = [
        header(f"{campaign.title} ({campaign.status})"),
        section(text),
        context(f"`/campaign texters {campaign.id}` · `/campaign review {campaign.id}`"),
    ]
    return reply(f"{campaign.title}: {progress_bar(stats.sent, stats.textable)}", blocks)


def max_amount_words(value: int | None) -> str:
    if value is None:
        return "no cap"
    return "0 (no more batches)" if value == 0 else str(value)


def texters_panel(
    campaign_id: int,
    title: str,
    rows: Sequence[TexterRow],
    total: int,
    offset: int,
    *,
    notice: str | None = None,
) -> Reply:
    """Spoke's Texters panel, one page: per texter their numbers and the three actions."""
    blocks: list[Block] = [header(f"Texters: {title}")]
    if notice:
        blocks.append(section(notice))
    if not rows:
        blocks.append(section("No texters have joined this campaign yet."))
    for row in rows:
        name = escape(row.name or row.slack_user_id)
        if row.suspended:
            name += " (Suspended)"
        mention = f"<@{row.slack_user_id}>" if row.slack_user_id else name
        blocks.append(
            section(
                f"*{name}* {mention}\n"
                f"Assigned {row.assigned} · Unsent {row.unsent} · "
                f"Replies waiting {row.replies_waiting} · Messaged {row.messaged} · "
                f"Max amount {max_amount_words(row.max_contacts)}"
            )
        )
        value = ids.admin_texter_value(campaign_id, row.user_id, offset)
        blocks.append(
            actions(
                button("Set max amount", ids.ADMIN_SET_MAX, value),
                button(
                    "Remove unsent",
                    ids.ADMIN_REMOVE_UNSENT,
                    value,
                    confirmation=confirm(
                        "Remove unsent texts?",
                        f"{name}'s {plural(row.unsent, 'unsent first text')} go back to the "
                        "pool for other texters.",
                        "Remove them",
                    ),
                ),
                button(
                    "Release all",
                    ids.ADMIN_RELEASE_ALL,
                    value,
                    style="danger",
                    confirmation=confirm(
                        "Release everything?",
                        f"Everything {name} holds, conversations included, goes back to the pool.",
                        "Release all",
                    ),
                ),
            )
        )
    first, last = offset + 1, offset + len(rows)
    if rows:
        blocks.append(context(f"Texters {first} to {last} of {total}"))
    paging = []
    if offset > 0:
        previous = max(offset - TEXTERS_PER_PAGE, 0)
        paging.append(
            button("Previous", ids.ADMIN_TEXTERS_PAGE, ids.admin_page_value(campaign_id, previous))
        )
    if last < total:
        paging.append(
            button("Next", ids.ADMIN_TEXTERS_PAGE, ids.admin_page_value(campaign_id, last))
        )
    if paging:
        blocks.append(actions(*paging))
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    return reply(f"Texters of {title}", blocks)


def admin_release_sentence(name: str, result: ReleaseResult, *, everything: bool) -> str:
    if not result.total:
        return f"{escape(name)} held nothing to release."
    parts = [plural(result.initials, "unsent first text")]
    if everything:
        parts.append(plural(result.conversations, "conversation"))
    return f"Released {' and '.join(parts)} from {escape(name)} back to the pool."


def review(
    campaign_id: int,
    title: str,
    rows: Sequence[ContactRow],
    total: int,
    *,
    texter_user_id: int | None,
    texter_label: str | None,
    status: MessageStatus | None,
    slack_ids: dict[int, str],
) -> Reply:
    """Message Review: the matching contacts, their count, and Unassign for all of them."""
    status_words = STATUS_WORDS[status] if status else "any status"
    who = f"held by {texter_label}" if texter_label else "of every texter"
    summary = f"*{plural(total, 'contact')}* with {status_words} {who} in *{escape(title)}*."
    blocks: list[Block] = [header(f"Message Review: {title}"), section(summary)]
    lines, boxes = [], []
    for row in rows:
        holder = f"<@{slack_ids[row.texter_user_id]}>" if row.texter_user_id else "unassigned"
        opted = " (opted out)" if row.is_opted_out else ""
        name = escape(f"{row.first_name} {row.last_name}".strip() or "(no name)")
        status_text = STATUS_WORDS.get(MessageStatus(row.message_status), row.message_status)
        lines.append(f"{name} · {row.cell} · {status_text}{opted} · {holder}")
        boxes.append((row.id, clip(f"{name} · {status_text}{opted}", 75)))
    if lines:
        blocks.append(section("\n".join(lines)))
    # One box per contact shown: Unassign selected / Reassign selected to… act on the ticked.
    blocks += selection_blocks(campaign_id, boxes)
    if total > len(rows):
        blocks.append(context(f"Showing the first {len(rows)} of {total}."))
    if total:
        value = ids.admin_unassign_value(
            campaign_id, texter_user_id, status.value if status else None
        )
        blocks.append(
            actions(
                button(
                    "Unassign",
                    ids.ADMIN_UNASSIGN,
                    value,
                    style="danger",
                    confirmation=confirm(
                        "Unassign these contacts?",
                        f"Every assigned contact with {status_words} {who} goes back to "
                        "the pool (unassigned ones stay as they are).",
                        "Unassign",
                    ),
                )
            )
        )
    return reply(f"Message Review: {total} matching", blocks)


def unassigned(result: ReleaseResult) -> Reply:
    if not result.total:
        return text_reply("Nothing to unassign: none of those contacts is assigned any more.")
    parts = [plural(result.initials, "unsent first text")]
    if result.conversations:
        parts.append(plural(result.conversations, "conversation"))
    return text_reply(f"Unassigned {' and '.join(parts)}; they are back in the pool.")


def import_report(title: str, report: ImportReport) -> Reply:
    """The CLI's report: the skipped lines (first few), then the summary."""
    lines = [f"*Import into {escape(title)}*: {escape(report.summary())}"]
    skipped = report.skipped[:SKIPPED_LINES_SHOWN]
    if skipped:
        lines.append("Skipped rows:")
        lines += [f"• {escape(row.describe())}" for row in skipped]
    if len(report.skipped) > len(skipped):
        lines.append(f"…and {plural(len(report.skipped) - len(skipped), 'more skipped row')}.")
    return text_reply("\n".join(lines))


def admin_home_blocks(
    campaigns: Sequence[CampaignStats], total: int, *, can_manage: bool
) -> list[Block]:
    """The admin part of Home: the newest campaigns (of `total` not archived) with progress
    bars and quick actions."""
    blocks: list[Block] = [divider(), header("Campaigns you run")]
    live = list(campaigns)
    if not live:
        blocks.append(section("No campaigns yet. `/campaign create` starts one."))
    for stats in live[:HOME_CAMPAIGNS_SHOWN]:
        value = ids.campaign_value(stats.campaign.id)
        buttons = [
            button("Stats", ids.ADMIN_HOME_STATS, value),
            button("Texters", ids.ADMIN_HOME_TEXTERS, value),
        ]
        if can_manage:
            buttons.append(button("Settings", ids.ADMIN_HOME_SETTINGS, value))
        blocks += [section(_campaign_line(stats)), actions(*buttons)]
    hidden = total - min(len(live), HOME_CAMPAIGNS_SHOWN)
    if hidden > 0:
        blocks.append(
            context(f"…and {plural(hidden, 'more campaign')}: `/campaign list` shows them all.")
        )
    return blocks
