"""Messages: the join link, the campaign card, batch replies, prompts, Done for the Day."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.render.common import (
    Reply,
    actions,
    button,
    context,
    escape,
    header,
    reply,
    section,
    text_reply,
)
from core.refusals import RefusalReason, plural
from core.services.batches import BatchResult, Eligibility
from core.services.release import ReleaseResult
from core.services.slack_support import JoinLink
from core.services.texter_home import RequestPrompt, TexterCampaign

# A Request More button is pointless while one of these holds (asking again can't help).
FINAL_REFUSALS = {
    RefusalReason.DYNAMIC_ASSIGNMENT_OFF,
    RefusalReason.CAMPAIGN_ARCHIVED,
    RefusalReason.NO_BATCH_SIZE,
    RefusalReason.CAP_ZERO,
    RefusalReason.CAP_REACHED,
    RefusalReason.NO_INITIALS_LEFT,
    RefusalReason.NO_CONVERSATIONS_LEFT,
    RefusalReason.NOT_JOINED,
    RefusalReason.SUSPENDED,
    RefusalReason.NOT_VETTED,
    RefusalReason.STRATEGY_NOT_ENABLED,
}


def join_link(link: JoinLink) -> Reply:
    blocks = [header(link.title)]
    if link.description:
        blocks.append(section(escape(link.description)))
    blocks += [
        actions(
            button(
                "Join",
                ids.JOIN,
                ids.join_value(link.campaign_id, link.join_token),
                style="primary",
            )
        ),
        context("Click *Join* to text for this campaign. You'll get the details privately."),
    ]
    return reply(f"Join the campaign “{link.title}”", blocks)


def join_link_posted(title: str) -> Reply:
    return text_reply(f"Posted the join link for “{escape(title)}” in this channel.")


def join_link_warning(link: JoinLink) -> str | None:
    """A note for the admin when the link will refuse texters as things stand."""
    if link.is_archived:
        return "Note: this campaign is archived, so the link will refuse everyone."
    if not link.use_dynamic_assignment:
        return "Note: dynamic assignment is off for this campaign, so the link will refuse texters."
    if not link.is_started:
        return "Note: this campaign isn't launched yet; texters can join once it is."
    return None


def cannot_post_here() -> Reply:
    return text_reply(
        "I can't post in this channel because I'm not a member of it. "
        "Add me with `/invite @spokebot`, then run the command again."
    )


def campaign_card(
    campaign_id: int,
    title: str,
    description: str,
    *,
    already_joined: bool,
    texting_hours: str = "",
) -> Reply:
    intro = (
        f"You're already in *{escape(title)}*."
        if already_joined
        else f"You've joined *{escape(title)}*. Welcome!"
    )
    blocks = [section(intro)]
    if description:
        blocks.append(section(escape(description)))
    if texting_hours:
        blocks.append(context(f"Texting hours: {escape(texting_hours)}"))
    blocks += [
        actions(
            button(
                "Send First Texts",
                ids.SEND_FIRST_TEXTS,
                ids.campaign_value(campaign_id),
                style="primary",
            )
        ),
        context("Or type `/sendfirsttexts` any time."),
    ]
    notification = f"You're already in “{title}”" if already_joined else f"You've joined “{title}”"
    return reply(notification, blocks)


def joined_elsewhere(title: str) -> Reply:
    return text_reply(
        f"You're in *{escape(title)}*: I've sent you the details in a direct message."
    )


def batch_result(title: str, result: BatchResult, prompt: RequestPrompt | None = None) -> Reply:
    """What a texter sees after asking for first texts."""
    name = escape(title)
    if result.assigned:
        got = plural(result.assigned, "first text")
        if result.unsent == result.assigned:  # one fact, one sentence
            return text_reply(f"You got {got} in *{name}*.")
        return text_reply(f"You got {got} in *{name}*. You now hold {result.unsent} to send.")
    refusal = result.refusal
    reason = refusal.message if refusal else "No first texts are available right now."
    if result.unsent:
        return text_reply(f"*{name}*: {reason}")
    return finished_prompt(
        result.eligibility.campaign_id, title, result.eligibility, reason, prompt=prompt
    )


def finished_prompt(
    campaign_id: int,
    title: str,
    eligibility: Eligibility,
    reason: str | None = None,
    *,
    prompt: RequestPrompt | None = None,
) -> Reply:
    """Spoke's popup after a batch: Request More (the campaign's label and message, when
    set) or Done For Now."""
    prompt = prompt or RequestPrompt()
    lines = [f"You have no first texts left to send in *{escape(title)}*."]
    if reason:
        lines.append(reason)
    elif eligibility.refusal:
        lines.append(eligibility.refusal.message)
    if eligibility.waiting_replies:
        lines.append(f"{plural(eligibility.waiting_replies, 'reply', 'replies')} waiting.")
    refusal = eligibility.refusal
    buttons = []
    if refusal is None or refusal.reason not in FINAL_REFUSALS:
        if prompt.message and refusal is None:
            lines.append(escape(prompt.message))
        buttons.append(
            button(prompt.label, ids.REQUEST_MORE, ids.campaign_value(campaign_id), style="primary")
        )
    buttons.append(button("Done For Now", ids.DONE_FOR_NOW, ids.campaign_value(campaign_id)))
    text = "\n".join(lines)
    return reply(text, [section(text), actions(*buttons)])


def done_for_now(home_link: str | None) -> Reply:
    where = f"<{home_link}|your Home tab>" if home_link else "the spokebot app's Home tab"
    return text_reply(
        f"Done for now. Your campaigns and replies are waiting on {where}; any first texts "
        "you hold stay yours, and `/sendfirsttexts` brings them back."
    )


def pick_campaign(purpose: str, campaigns: Sequence[TexterCampaign], question: str) -> Reply:
    blocks = [section(question)]
    rows = list(campaigns)[: 25 * 40]  # 25 buttons per actions block, 40 blocks of them
    for start in range(0, len(rows), 25):
        blocks.append(
            actions(
                *(
                    button(c.title, ids.PICK_CAMPAIGN, ids.pick_value(purpose, c.campaign_id))
                    for c in rows[start : start + 25]
                )
            )
        )
    return reply(question, blocks)


def only_archived(titles: Sequence[str]) -> Reply:
    """Every campaign the texter joined is archived: name them, say what that means."""
    names = ", ".join(f"*{escape(t)}*" for t in titles[:5])
    more = f" and {plural(len(titles) - 5, 'more')}" if len(titles) > 5 else ""
    verb = "is" if len(titles) == 1 else "are"
    return text_reply(
        f"{names}{more} {verb} archived: texting there is over, so there are no first texts "
        "to send. When a new campaign starts, click *Join* on its link."
    )


def no_campaigns() -> Reply:
    return text_reply(
        "You haven't joined any campaigns yet. Click the *Join* button on a campaign's "
        "join link to start."
    )


def no_such_campaign(argument: str, campaigns: Sequence[TexterCampaign]) -> Reply:
    names = ", ".join(f"{c.campaign_id} ({escape(c.title)})" for c in campaigns)
    return text_reply(
        f"You haven't joined a campaign matching “{escape(argument)}”. "
        f"Your campaigns: {names or 'none yet'}."
    )


def confirm_done_for_the_day(campaign_id: int, title: str, unsent: int, replies: int) -> Reply:
    held = f"your {plural(unsent, 'unsent first text')}"
    if replies:
        held += f" (and, if your organization allows it, {plural(replies, 'conversation')})"
    return reply(
        "Done for the Day?",
        [
            section(
                f"*Done for the Day in {escape(title)}?* This releases {held} so other "
                "texters can send them."
            ),
            actions(
                button(
                    "Yes, release them",
                    ids.DONE_FOR_THE_DAY_CONFIRM,
                    ids.campaign_value(campaign_id),
                    style="danger",
                ),
                button("Cancel", ids.DONE_FOR_THE_DAY_CANCEL, ids.campaign_value(campaign_id)),
            ),
        ],
    )


def released(title: str, result: ReleaseResult) -> Reply:
    return text_reply(release_sentence(title, result))


def release_sentence(title: str, result: ReleaseResult) -> str:
    if not result.total:
        return f"Done for the day in *{escape(title)}*: you held nothing to release. Thank you!"
    parts = [plural(result.initials, "unsent first text")]
    if result.conversations:
        parts.append(plural(result.conversations, "conversation"))
    return (
        f"Done for the day in *{escape(title)}*: released {' and '.join(parts)} "
        "for other texters. Thank you!"
    )


def cancelled() -> Reply:
    return text_reply("OK, nothing was released.")


def campaign_help(entries: Sequence[tuple[str, str]]) -> Reply:
    lines = [f"• `/campaign {usage}`: {description}" for usage, description in entries]
    return text_reply("*/campaign* commands:\n" + "\n".join(lines))


def unknown_subcommand(name: str, usage: str) -> Reply:
    return text_reply(f"I don't know `/campaign {escape(name)}`.\n{usage}")


def error(message: str) -> Reply:
    return text_reply(message)
