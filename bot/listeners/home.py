"""Events API: the texter opening the app's Home tab (the work is bot.listeners.steps's
home_opened, which the durable inbox also runs)."""

from __future__ import annotations

from slack_bolt import App

from bot import ids
from bot.listeners.common import Deps, ack_now, lazy
from bot.listeners.steps import home_opened


def register(app: App, deps: Deps) -> None:
    app.event(ids.EVENT_APP_HOME_OPENED)(ack=ack_now, lazy=[lazy(home_opened)])
