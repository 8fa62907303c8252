"""People in campaigns and roles: `/campaign add-texters` (joins people without the link and
DMs each a Send First Texts card), `/campaign vet` and `/campaign unvet`. Core checks every
role."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.listeners.admin.steps import (
    Subcommand,
    campaign_id_arg,
    exactly,
    mention_arg,
    usage_error,
)
from bot.listeners.common import Deps, Turn
from bot.render import conversations_admin as render
from bot.render import messages
from bot.render.common import text_reply
from core.roles import Role
from core.services.members import change_vetting
from core.services.reassign import add_texters

ADD_USAGE = "add-texters CAMPAIGN_ID @texter [@texter ...]"
VET_USAGE = "vet @user"
UNVET_USAGE = "unvet @user"


def register(app: App, deps: Deps) -> None:
    """Subcommands only (see SUBCOMMANDS)."""


def campaign_add_texters(turn: Turn, args: list[str]) -> None:
    campaign_id = campaign_id_arg(ADD_USAGE, args[0] if args else None)
    people = [mention_arg(ADD_USAGE, word) for word in args[1:]]
    if not people:
        raise usage_error(ADD_USAGE, "Whom? Mention each person with @.")
    identity = turn.identity()
    named = [(p, turn.deps.directory.display_name(turn.client, p) or "") for p in people]
    result = add_texters(
        turn.db, identity.user_id, identity.organization_id, campaign_id, dict(named).items()
    )
    unreachable = []
    for slack_id in result.added:
        card = messages.campaign_card(
            result.campaign_id, result.campaign_title, "", already_joined=False
        )
        try:
            channel = turn.deps.directory.dm_channel(turn.client, slack_id)
            turn.client.chat_postMessage(channel=channel, **card.as_kwargs())
        except SlackApiError:
            unreachable.append(slack_id)
    turn.reply(render.texters_added(result, unreachable))


def _vetting(turn: Turn, args: list[str], usage: str, vetted: bool) -> None:
    slack_id = mention_arg(usage, args[0] if args else None)
    exactly(usage, args, 1)
    identity = turn.identity()
    change_vetting(turn.db, identity.user_id, identity.organization_id, slack_id, vetted)
    role = Role.VETTED_TEXTER if vetted else Role.TEXTER
    turn.reply(text_reply(f"<@{slack_id}> is now {role.value}."))


def campaign_vet(turn: Turn, args: list[str]) -> None:
    _vetting(turn, args, VET_USAGE, True)


def campaign_unvet(turn: Turn, args: list[str]) -> None:
    _vetting(turn, args, UNVET_USAGE, False)


SUBCOMMANDS = (
    Subcommand(
        "add-texters",
        ADD_USAGE,
        "join people to the campaign without the link, each gets Send First Texts (admins)",
        campaign_add_texters,
    ),
    Subcommand("vet", VET_USAGE, "make a texter a vetted texter (admins)", campaign_vet),
    Subcommand(
        "unvet", UNVET_USAGE, "make a vetted texter a plain texter (admins)", campaign_unvet
    ),
)
