"""Messages: the join link, the campaign card, campaign questions, Done For Now and Done for
the Day (a batch request's answer is bot.render.send_card's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from core.refusals import plural
from core.services.campaign_lifecycle import JoinLink
from core.services.release import ReleaseResult
from core.services.texter_home import JoinedCampaign, TexterCampaign

NamedCampaign = TexterCampaign | JoinedCampaign  # what a campaign question lists: id, title


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


def done_for_now(
    home_link: str | None,
    reply_links: Sequence[Any] = (),
    take_campaigns: Sequence[TexterCampaign] = (),
) -> Reply:
    """After Done For Now: the replies still waiting (with links) and, for vetted texters,
    Take conversations."""
    where = f"<{home_link}|your Home tab>" if home_link else "the spokebot app's Home tab"
    held = "Any first texts you hold stay yours, and `/sendfirsttexts` brings them back."
    if reply_links:
        text = f"Done for now. {held} These replies are still waiting for you (also on {where}):"
    else:
        text = (
            f"Done for now. {held} No replies are waiting for you; your campaigns are on {where}."
        )
    blocks: list[Any] = [section(text), *reply_links]
    if take_campaigns:
        blocks.append(
            actions(
                *(
                    button(
                        f"Take conversations: {c.title}"
                        if len(take_campaigns) > 1
                        else "Take conversations",
                        ids.TAKE_CONVERSATIONS,
                        ids.campaign_value(c.campaign_id),
                    )
                    for c in take_campaigns[:5]
                )
            )
        )
    return reply(text, blocks)


def pick_campaign(purpose: str, campaigns: Sequence[NamedCampaign], question: str) -> Reply:
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


def no_such_campaign(argument: str, campaigns: Sequence[NamedCampaign]) -> Reply:
    names = ", ".join(f"{c.campaign_id} ({escape(c.title)})" for c in campaigns)
    return text_reply(
        f"You haven't joined a campaign matching “{escape(argument)}”. "
        f"Your campaigns: {names or 'none yet'}."
    )


def confirm_done_for_the_day(
    campaign_id: int, title: str, initials: int, conversations: int, conversations_allowed: bool
) -> Reply:
    """Spoke's two buttons when the organization lets conversations go too, else one; a
    count of 0 is never offered as something to release."""
    name = escape(title)
    value = ids.campaign_value(campaign_id)
    cancel = button("Cancel", ids.DONE_FOR_THE_DAY_CANCEL, value)
    offer_conversations = conversations_allowed and conversations > 0
    if not initials and not offer_conversations:
        text = f"*Done for the Day in {name}?* You hold no unsent first texts, so there is "
        text += "nothing to release. Thank you for texting!"
        return reply("Nothing to release", [section(text)])
    parts = []
    buttons = []
    if initials:
        parts.append(
            f"This releases your {plural(initials, 'unsent first text')} so other texters "
            "can send them."
        )
        action = (
            ids.DONE_FOR_THE_DAY_CONFIRM_INITIALS
            if offer_conversations
            else ids.DONE_FOR_THE_DAY_CONFIRM
        )
        buttons.append(button(f"Release first texts ({initials})", action, value, style="danger"))
    if offer_conversations:
        parts.append(
            f"You may also release your {plural(conversations, 'conversation')}: other "
            "texters can take them."
        )
        label = (
            f"Release first texts and conversations ({initials + conversations})"
            if initials
            else f"Release conversations ({conversations})"
        )
        buttons.append(button(label, ids.DONE_FOR_THE_DAY_CONFIRM, value, style="danger"))
    text = f"*Done for the Day in {name}?* " + " ".join(parts)
    return reply("Done for the Day?", [section(text), actions(*buttons, cancel)])


def released(title: str, result: ReleaseResult) -> Reply:
    return text_reply(release_sentence(title, result))


def release_sentence(title: str, result: ReleaseResult) -> str:
    if not result.total:
        return f"Done for the day in *{escape(title)}*: you held nothing to release. Thank you!"
    parts = [plural(result.initials, "unsent first text")] if result.initials else []
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
