"""The Handle replies button on a reply reminder (sent by the scheduler)."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_bolt import App

from bot import ids
from bot.ids import HANDLE_REPLIES_ACTION
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy
from bot.permalinks import thread_links
from bot.render import reminders
from core.services.conversation_requests import replies_to_handle


def register(app: App, deps: Deps) -> None:
    app.action(HANDLE_REPLIES_ACTION)(ack=ack_now, lazy=[lazy(handle_replies)])


def handle_replies(turn: Turn) -> None:
    campaign_id = ids.parse_campaign_value(action_value(turn))
    # NotFound for another workspace's campaign; only the clicker's own contacts are listed,
    # and only those who can be answered (not opted out, not closed).
    answer = replies_to_handle(
        turn.db, turn.team_id, turn.slack_user_id, turn.display_name(), campaign_id
    )
    turn.set_identity(answer.identity)
    links = thread_links(turn.client, answer.replies)
    turn.reply(reminders.waiting_replies(answer.title, answer.replies, links, datetime.now(UTC)))
