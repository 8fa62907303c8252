"""What admins see: campaign lists and stats with progress bars, the Texters panel, Message
Review, the settings and max-amount modals, import reports and the admin part of Home."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

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
from bot.render.conversations_admin import conversation_settings, selection_blocks
from core.refusals import plural
from core.services.admin_lookup import CampaignSettingsForm
from core.services.campaigns import DEFAULT_BATCH_SIZE
from core.services.contact_import import ImportReport
from core.services.release import ReleaseResult
from core.services.stats import CampaignStats, ContactRow, TexterRow
from core.statuses import MessageStatus
from strategies.registry import available_strategies

BAR_CELLS = 10
# Two blocks per texter (their numbers, their buttons) plus header, notice, context and the
# paging buttons: 18 texters use 40 of a message's 50 blocks.
TEXTERS_PER_PAGE = 18
REVIEW_ROWS_SHOWN = 20
LIST_CAMPAIGNS_SHOWN = 40
HOME_CAMPAIGNS_SHOWN = 10
SKIPPED_LINES_SHOWN = 20
MAX_MODAL_TITLE = 24
MAX_INPUT_LENGTH = 3000

# Spoke's primary strategies, in the order its Assignment Management offers them; the
# experimental vetted-takeconversations is only ever added as the secondary one.
PRIMARY_STRATEGIES = ("finished-replies", "vetted-texters", "all-texters", "finished-replies-tz")
SECONDARY_STRATEGY = "vetted-takeconversations"

STATUS_WORDS = {
    MessageStatus.NEEDS_MESSAGE: "Needs First Message",
    MessageStatus.MESSAGED: "Messaged",
    MessageStatus.NEEDS_RESPONSE: "Needs Response",
    MessageStatus.CONVO: "Conversation",
    MessageStatus.CLOSED: "Closed",
}
ON, OFF = "on", "off"


def progress_bar(fraction: float) -> str:
    """'▓▓▓▓▓░░░░░ 48%': rounded down, so 100% means every first text went out."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = math.floor(fraction * BAR_CELLS)
    percent = math.floor(fraction * 100)
    return "▓" * filled + "░" * (BAR_CELLS - filled) + f" {percent}%"


def _campaign_line(stats: CampaignStats) -> str:
    campaign = stats.campaign
    return (
        f"*{campaign.id}* · {escape(campaign.title)} · _{campaign.status}_\n"
        f"`{progress_bar(stats.progress)}` "
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
        f"*Progress:* `{progress_bar(stats.progress)}` of first texts sent "
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
    return reply(f"{campaign.title}: {progress_bar(stats.progress)}", blocks)


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


def _modal(
    callback_id: str,
    title: str,
    blocks: Sequence[Block],
    metadata: str,
    submit: str | None = "Save",
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=clip(title, MAX_MODAL_TITLE)),
        submit=PlainTextObject(text=submit) if submit else None,
        close=PlainTextObject(text="Cancel" if submit else "Close"),
        blocks=list(blocks),
        private_metadata=metadata,
    )
    return view.to_dict()


def _text_input(
    block_id: str,
    label: str,
    initial: str,
    *,
    hint: str | None = None,
    multiline: bool = False,
    optional: bool = True,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=PlainTextInputElement(
            action_id=block_id,
            initial_value=clip(initial, MAX_INPUT_LENGTH) if initial else None,
            multiline=multiline,
            max_length=MAX_INPUT_LENGTH,
        ),
        hint=PlainTextObject(text=hint) if hint else None,
        optional=optional,
    )


def _on_off(block_id: str, label: str, on: bool, on_text: str, off_text: str) -> InputBlock:
    options = [
        Option(value=ON, label=on_text),
        Option(value=OFF, label=off_text),
    ]
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=RadioButtonsElement(
            action_id=block_id, options=options, initial_option=options[0 if on else 1]
        ),
    )


def max_amount_modal(
    campaign_id: int, texter_user_id: int, name: str, current: int | None
) -> dict[str, Any]:
    blocks = [
        section(f"How many first texts may *{escape(name)}* get through dynamic assignment?"),
        _text_input(
            ids.ADMIN_MAX_INPUT,
            "Max amount",
            "" if current is None else str(current),
            hint="Empty: no cap. 0: no further batches.",
        ),
    ]
    return _modal(ids.ADMIN_MAX_MODAL, "Set max amount", blocks, f"{campaign_id}:{texter_user_id}")


def settings_modal(form: CampaignSettingsForm) -> dict[str, Any]:
    """Spoke's Assignment Management section plus the organization's texter settings."""
    strategies = available_strategies()
    primary = [name for name in PRIMARY_STRATEGIES if name in strategies]
    # A strategy set elsewhere (the CLI, a plugin) is offered too, so it shows and survives.
    primary += [
        name
        for i, name in enumerate(form.strategies)
        if name not in primary and (i == 0 or name != SECONDARY_STRATEGY)
    ]
    options = [
        Option(
            value=name,
            label=clip(
                f"{strategies[name].display_name if name in strategies else name} ({name})", 75
            ),
        )
        for name in primary
    ]
    chosen = form.strategies[0] if form.strategies else primary[0]
    initial = next((o for o in options if o.value == chosen), options[0])
    take = Option(
        value=SECONDARY_STRATEGY,
        label="Also let vetted texters take unassigned conversations",
    )
    take_element = CheckboxesElement(
        action_id=ids.ADMIN_SETTING_TAKE_CONVERSATIONS,
        options=[take],
        initial_options=[take] if SECONDARY_STRATEGY in form.strategies[1:] else None,
    )
    blocks: list[Block] = [
        section(f"*{escape(form.title)}*: Assignment Management"),
        _on_off(
            ids.ADMIN_SETTING_DYNAMIC,
            "Dynamic assignment for initials",
            form.use_dynamic_assignment,
            "On: texters join by link and request batches",
            "Off: assign texts by hand",
        ),
        _text_input(
            ids.ADMIN_SETTING_BATCH_SIZE,
            "How large should this batch size be?",
            "" if form.batch_size is None else str(form.batch_size),
            hint=f"First texts per request (Spoke's default: {DEFAULT_BATCH_SIZE}).",
            optional=False,
        ),
        InputBlock(
            block_id=ids.ADMIN_SETTING_STRATEGY,
            label=PlainTextObject(text="When may texters request another batch?"),
            element=StaticSelectElement(
                action_id=ids.ADMIN_SETTING_STRATEGY, options=options, initial_option=initial
            ),
        ),
        InputBlock(
            block_id=ids.ADMIN_SETTING_TAKE_CONVERSATIONS,
            label=PlainTextObject(text="Secondary strategy (experimental)"),
            element=take_element,
            optional=True,
        ),
        *conversation_settings(form.per_take, form.split_assignments),
        _text_input(
            ids.ADMIN_SETTING_REQUEST_LABEL,
            "Request button label (texters see it)",
            form.request_button_label,
            hint="Empty: “Request More Texts”.",
        ),
        _text_input(
            ids.ADMIN_SETTING_REQUEST_MESSAGE,
            "Message shown with the request button",
            form.request_message,
            multiline=True,
        ),
        divider(),
        section("*Organization-wide* (every campaign of this organization)"),
        _on_off(
            ids.ADMIN_SETTING_DONE_FOR_THE_DAY,
            "Done for the Day",
            form.done_for_the_day_enabled,
            "Allowed",
            "Not allowed",
        ),
        _on_off(
            ids.ADMIN_SETTING_RELEASE_CONVERSATIONS,
            "Done for the Day releases conversations too",
            form.release_conversations_allowed,
            "Yes",
            "No, only unsent first texts",
        ),
        _text_input(
            ids.ADMIN_SETTING_MAX_TEXTERS,
            "Max texters per campaign",
            "" if form.max_texters is None else str(form.max_texters),
            hint="Empty: no limit.",
        ),
    ]
    return _modal(ids.ADMIN_SETTINGS_MODAL, "Campaign settings", blocks, str(form.campaign_id))


def done_modal(title: str, text: str) -> dict[str, Any]:
    """What a modal turns into after a successful save."""
    return _modal(ids.ADMIN_DONE_MODAL, title, [section(text)], "", submit=None)


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
