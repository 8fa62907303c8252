"""Events API: the texter opening the app's Home tab."""

from __future__ import annotations

from slack_bolt import App

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, lazy
from bot.render.home import unknown_workspace_view
from core.errors import NotFound
from core.services.slack_events import claim_event


def register(app: App, deps: Deps) -> None:
    app.event(ids.EVENT_APP_HOME_OPENED)(ack=ack_now, lazy=[lazy(deps, home_opened)])


def home_opened(turn: Turn) -> None:
    event = turn.body["event"]
    if event.get("tab", "home") != "home":
        return
    # A redelivery (X-Slack-Retry-Num) carries the same event_id: act once.
    event_id = turn.body.get("event_id")
    if not turn.from_inbox and event_id and not claim_event(turn.db, event_id):
        return
    try:
        turn.publish_home()
    except NotFound as error:  # the workspace isn't connected: say so where they look
        turn.client.views_publish(
            user_id=turn.slack_user_id, view=unknown_workspace_view(error.message)
        )
