"""Add to Slack: a workspace uninstalling the app, or revoking its bot token, loses its stored
tokens at once (its organization, campaigns and contacts stay, for a reinstall).

Bolt's own revocation listeners delete only the bot row on tokens_revoked, while the
installation row (which the authorize and the scheduler read) keeps the dead token; we
delete the workspace's installation whole, through slack-sdk's store.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot import ids
from bot.listeners.common import Deps

log = logging.getLogger("spokebot.installs")


def register(app: App, deps: Deps) -> None:
    store = app.installation_store
    if store is None:  # one bot token from the environment: nothing stored to delete
        return

    def forget(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        event = body.get("event") or {}
        if event.get("type") == ids.EVENT_TOKENS_REVOKED and not (event.get("tokens") or {}).get(
            "bot"
        ):
            return  # only user tokens, and we never ask for any
        store.delete_all(enterprise_id=context.enterprise_id, team_id=context.team_id)
        log.info(
            "%s: deleted the tokens of team %s; its organization's data is kept",
            event.get("type"),
            context.team_id,
        )

    app.event(ids.EVENT_APP_UNINSTALLED)(forget)
    app.event(ids.EVENT_TOKENS_REVOKED)(forget)
