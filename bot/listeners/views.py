"""Modal submissions. None yet: the admin commands (issue 6) add their modals here."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.common import Deps


def register(app: App, deps: Deps) -> None:
    """Register `app.view(CALLBACK_ID)(ack=..., lazy=[...])` listeners here."""
