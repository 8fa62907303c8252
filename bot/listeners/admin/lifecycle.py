"""A campaign's life from Slack: `/campaign link` (post the join link here), `launch`,
`rotate-link` and `archive`. Core checks the role."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.listeners.admin.steps import Subcommand, only_campaign_id
from bot.listeners.common import Deps, Turn
from bot.render import campaign_forms, messages
from bot.render.common import escape, text_reply
from core.errors import InvalidInput
from core.services.campaign_lifecycle import (
    archive_campaign,
    join_link_for,
    launch_campaign,
    rotate_join_link,
)

LINK_USAGE = "link CAMPAIGN_ID"
LAUNCH_USAGE = "launch CAMPAIGN_ID"
ROTATE_USAGE = "rotate-link CAMPAIGN_ID"
ARCHIVE_USAGE = "archive CAMPAIGN_ID"

# Slack errors meaning "the bot may not post in this channel": the admin must /invite it.
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


def register(app: App, deps: Deps) -> None:
    """Subcommands only (see SUBCOMMANDS)."""


def campaign_link(turn: Turn, args: list[str]) -> None:
    campaign_id = ids.parse_id(args[0]) if len(args) == 1 else None
    if campaign_id is None:
        raise InvalidInput("Usage: `/campaign link CAMPAIGN_ID`, e.g. `/campaign link 12`.")
    identity = turn.identity()
    link = join_link_for(turn.db, identity.user_id, identity.organization_id, campaign_id)
    try:
        turn.client.chat_postMessage(
            channel=turn.body["channel_id"], **messages.join_link(link).as_kwargs()
        )
    except SlackApiError as error:
        if error.response.get("error") in CANNOT_POST:
            turn.reply(messages.cannot_post_here())
            return
        raise
    note = messages.join_link_warning(link)
    confirmation = messages.join_link_posted(link.title)
    if note:
        confirmation = messages.text_reply(f"{confirmation.text}\n{note}")
    turn.reply(confirmation)


def campaign_launch(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id(LAUNCH_USAGE, args)
    identity = turn.identity()
    report = launch_campaign(turn.db, identity.user_id, identity.organization_id, campaign_id)
    turn.reply(campaign_forms.launched(report))


def campaign_rotate_link(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id(ROTATE_USAGE, args)
    identity = turn.identity()
    rotate_join_link(turn.db, identity.user_id, identity.organization_id, campaign_id)
    turn.reply(
        text_reply(
            f"Every earlier join link of campaign {campaign_id} stopped working. Post a fresh "
            f"one with `/campaign link {campaign_id}` when you want one."
        )
    )


def campaign_archive(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id(ARCHIVE_USAGE, args)
    identity = turn.identity()
    title = archive_campaign(turn.db, identity.user_id, identity.organization_id, campaign_id)
    turn.reply(text_reply(f"*{escape(title)}* is archived: its join link and batches are closed."))


SUBCOMMANDS = (
    Subcommand(
        "link", LINK_USAGE, "post the campaign's join link in this channel (admins)", campaign_link
    ),
    Subcommand("launch", LAUNCH_USAGE, "launch a campaign (admins)", campaign_launch),
    Subcommand(
        "rotate-link",
        ROTATE_USAGE,
        "make every earlier join link stop working (admins)",
        campaign_rotate_link,
    ),
    Subcommand("archive", ARCHIVE_USAGE, "archive a campaign (admins)", campaign_archive),
)
