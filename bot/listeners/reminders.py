"""The Handle replies button on a reply reminder (sent by the scheduler)."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_bolt import App

from bot import ids
from bot.ids import HANDLE_REPLIES_ACTION
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.permalinks import thread_links
from bot.render import reminders
from core.services.campaign_scope import campaign_title_in_org
from core.services.waiting_replies import waiting_replies


def register(app: App, deps: Deps) -> None:
    app.action(HANDLE_REPLIES_ACTION)(ack=ack_now, lazy=[lazy(handle_replies)])


def handle_replies(turn: Turn) -> None:
    campaign_id = ids.parse_campaign_value(action_value(turn))
    identity = turn.identity()
    # NotFound for another workspace's campaign; only the clicker's own contacts are listed,
    # and only those who can be answered (not opted out, not closed).
    title = campaign_title_in_org(turn.db, campaign_id, identity.organization_id)
    replies = waiting_replies(turn.db, identity.user_id, campaign_ids=[campaign_id])
    links = thread_links(turn.client, replies)
    turn.reply(reminders.waiting_replies(title, replies, links, datetime.now(UTC)))
