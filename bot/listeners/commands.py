"""Slash commands: /sendfirsttexts, /doneforday and /campaign (a table of subcommands)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, lazy
from bot.listeners.conversations import take_command
from bot.listeners.flows import confirm_done_for_the_day, first_texts_command, with_campaign
from bot.render import messages
from core.errors import InvalidInput
from core.services.slack_support import join_link_for

# Slack errors meaning "the bot may not post in this channel": the admin must /invite it.
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str  # after "/campaign "
    description: str
    run: Callable[[Turn, list[str]], None]


# `/campaign NAME ARGS...` dispatches here. Add a subcommand with @campaign_subcommand.
CAMPAIGN_SUBCOMMANDS: dict[str, Subcommand] = {}


def campaign_subcommand(
    name: str, usage: str, description: str
) -> Callable[[Callable[[Turn, list[str]], None]], Callable[[Turn, list[str]], None]]:
    def add(run: Callable[[Turn, list[str]], None]) -> Callable[[Turn, list[str]], None]:
        CAMPAIGN_SUBCOMMANDS[name] = Subcommand(name, usage, description, run)
        return run

    return add


def campaign_usage() -> str:
    names = " | ".join(sorted(CAMPAIGN_SUBCOMMANDS))
    return f"Usage: `/campaign {names} ...` (`/campaign help` explains each)."


def register(app: App, deps: Deps) -> None:
    for command, work in COMMANDS.items():
        app.command(command)(ack=ack_now, lazy=[lazy(deps, work)])


def send_first_texts(turn: Turn) -> None:
    first_texts_command(turn, turn.body.get("text", ""))


def done_for_day(turn: Turn) -> None:
    chosen = with_campaign(
        turn, ids.PICK_FOR_DONE, turn.body.get("text", ""), "Which campaign are you done with?"
    )
    if chosen is not None:
        confirm_done_for_the_day(turn, chosen, replace=False)


def campaign(turn: Turn) -> None:
    words = turn.body.get("text", "").split()
    name = words[0].lower() if words else "help"
    sub = CAMPAIGN_SUBCOMMANDS.get(name)
    if sub is None:
        turn.reply(messages.unknown_subcommand(name, campaign_usage()))
        return
    sub.run(turn, words[1:])


# Every slash command the app answers (manifest.yml must list exactly these).
COMMANDS: dict[str, Callable[[Turn], None]] = {
    ids.CMD_SEND_FIRST_TEXTS: send_first_texts,
    ids.CMD_DONE_FOR_DAY: done_for_day,
    ids.CMD_CAMPAIGN: campaign,
    ids.CMD_TAKE_CONVERSATIONS: take_command,
}


@campaign_subcommand("help", "help", "this list")
def campaign_help(turn: Turn, args: list[str]) -> None:
    entries = [(s.usage, s.description) for s in CAMPAIGN_SUBCOMMANDS.values()]
    turn.reply(messages.campaign_help(entries))


@campaign_subcommand(
    "link", "link CAMPAIGN_ID", "post the campaign's join link in this channel (admins)"
)
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
