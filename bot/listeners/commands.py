"""Slash commands: /sendfirsttexts and /doneforday (/campaign is bot.listeners.admin's)."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, lazy
from bot.listeners.conversations import take_command
from bot.listeners.flows import confirm_done_for_the_day, first_texts_command, with_campaign


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


# The slash commands these listeners answer (manifest.yml lists them, and /campaign).
COMMANDS: dict[str, Callable[[Turn], None]] = {
    ids.CMD_SEND_FIRST_TEXTS: send_first_texts,
    ids.CMD_DONE_FOR_DAY: done_for_day,
    ids.CMD_TAKE_CONVERSATIONS: take_command,
}
