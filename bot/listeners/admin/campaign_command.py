"""The `/campaign NAME ARGS...` slash command: a table of subcommands, built when the app
is (bot.listeners.admin.register), and `/campaign help` listing it. Core checks every
role."""

from __future__ import annotations

from collections.abc import Iterable

from slack_bolt import App

from bot import ids
from bot.listeners.admin.steps import Subcommand
from bot.listeners.common import Deps, Turn, ack_now, lazy
from bot.render import messages


def subcommand_table(subcommands: Iterable[Subcommand]) -> dict[str, Subcommand]:
    """`help` and `subcommands`, by name (a name defined twice is a bug)."""
    table: dict[str, Subcommand] = {}

    def campaign_help(turn: Turn, args: list[str]) -> None:
        turn.reply(messages.campaign_help([(s.usage, s.description) for s in table.values()]))

    for sub in (Subcommand("help", "help", "this list", campaign_help), *subcommands):
        if sub.name in table:
            raise ValueError(f"/campaign {sub.name} is defined twice")
        table[sub.name] = sub
    return table


def register(app: App, deps: Deps, table: dict[str, Subcommand]) -> None:
    def campaign(turn: Turn) -> None:
        words = turn.body.get("text", "").split()
        name = words[0].lower() if words else "help"
        sub = table.get(name)
        if sub is None:
            turn.reply(messages.unknown_subcommand(name, usage_line(table)))
            return
        sub.run(turn, words[1:])

    app.command(ids.CMD_CAMPAIGN)(ack=ack_now, lazy=[lazy(campaign)])


def usage_line(table: dict[str, Subcommand]) -> str:
    names = " | ".join(sorted(table))
    return f"Usage: `/campaign {names} ...` (`/campaign help` explains each)."
