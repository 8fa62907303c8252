"""The admin side of the bot, by feature: `/campaign` and its subcommand table
(campaign_command), campaign progress (progress), the Texters panel (texters), the settings
form (settings), the create/edit/copy forms (campaign_forms), join link, launch and archive
(lifecycle), Message Review and reassigning (review), adding and vetting people (members),
and contacts by CSV upload (upload). Shared steps live in `steps` (not a listener).

Each feature module has `register(app, deps)` for its buttons, modals and events, and
`SUBCOMMANDS` for `/campaign`; no listener module imports another. Adding a subcommand:
a `def run(turn: Turn, args: list[str]) -> None` and a `Subcommand(...)` in its feature's
SUBCOMMANDS (help lists it); core checks every role.
"""

from __future__ import annotations

from slack_bolt import App

from bot import ids
from bot.listeners.admin import (
    campaign_command,
    campaign_forms,
    lifecycle,
    members,
    progress,
    review,
    settings,
    texters,
    upload,
)
from bot.listeners.admin.steps import Subcommand
from bot.listeners.common import Deps

# In `/campaign help` order.
FEATURES = (progress, texters, settings, campaign_forms, lifecycle, review, members, upload)

# The slash commands this package answers (manifest.yml lists them with the others).
COMMANDS = (ids.CMD_CAMPAIGN,)


def campaign_subcommands() -> dict[str, Subcommand]:
    """`/campaign`'s table: help, then every feature's subcommands."""
    return campaign_command.subcommand_table(
        sub for feature in FEATURES for sub in getattr(feature, "SUBCOMMANDS", ())
    )


def register(app: App, deps: Deps) -> None:
    campaign_command.register(app, deps, campaign_subcommands())
    for feature in FEATURES:
        feature.register(app, deps)
