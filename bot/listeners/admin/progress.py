"""How campaigns are doing: `/campaign list`, `/campaign stats` and the admin Home's Stats
button."""

from __future__ import annotations

from slack_bolt import App

from bot import ids
from bot.listeners.admin.steps import Subcommand, exactly, only_campaign_id
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.render import admin
from core.services.campaign_progress import campaigns_with_stats, stats_report

LIST_USAGE = "list"
STATS_USAGE = "stats CAMPAIGN_ID"


def register(app: App, deps: Deps) -> None:
    app.action(ids.ADMIN_HOME_STATS)(ack=ack_now, lazy=[lazy(home_stats_clicked)])


def campaign_list(turn: Turn, args: list[str]) -> None:
    exactly(LIST_USAGE, args, 0)
    identity = turn.identity()
    campaigns, total = campaigns_with_stats(
        turn.db, identity.user_id, identity.organization_id, limit=admin.LIST_CAMPAIGNS_SHOWN
    )
    turn.reply(admin.campaign_list(campaigns, total))


def campaign_stats(turn: Turn, args: list[str]) -> None:
    show_stats(turn, only_campaign_id(STATS_USAGE, args))


def home_stats_clicked(turn: Turn) -> None:
    show_stats(turn, ids.parse_campaign_value(action_value(turn)))


def show_stats(turn: Turn, campaign_id: int) -> None:
    identity = turn.identity()
    report = stats_report(turn.db, identity.user_id, identity.organization_id, campaign_id)
    turn.reply_or_dm(admin.campaign_stats(report.stats, report.texters_holding_unsent))


SUBCOMMANDS = (
    Subcommand("list", LIST_USAGE, "campaigns with status and a progress bar", campaign_list),
    Subcommand(
        "stats",
        STATS_USAGE,
        "progress, counts by status, texters holding unsent texts, opt-outs",
        campaign_stats,
    ),
)
