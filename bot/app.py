"""The Bolt app factory. Nothing is built at import time."""

from __future__ import annotations

import logging
import weakref
from typing import Any

from slack_bolt import App, BoltResponse, Respond
from slack_sdk import WebClient

from bot.errors import report_error
from bot.listeners import (
    admin,
    conversations,
    first_texts,
    home,
    installs,
    joining,
    reminders,
    send_card,
    threads,
)
from bot.listeners.common import Deps, put_deps_in_context
from bot.log_redaction import database_password, protect
from bot.settings import Settings
from bot.slack_client import SlackDirectory, make_web_client
from bot.workspaces import SingleWorkspace, Workspaces, workspaces_for
from core.db import Database
from core.messaging import MessageService, message_service_from_env

# The features, each registering its listeners with one `register(app, deps)`:
# the texter's (joining a campaign, first texts and Done for the Day, the send card, a
# contact's DM thread, conversations to take, Home, the reply reminder's Handle replies),
# the admin side (/campaign, its buttons, modals and CSV uploads), and Add to Slack's
# uninstalls and revoked tokens.
FEATURES = (
    joining,
    first_texts,
    home,
    send_card,
    threads,
    conversations,
    admin,
    reminders,
    installs,
)

# The texter's slash commands (manifest.yml lists them, with admin.COMMANDS).
TEXTER_COMMANDS = (*first_texts.COMMANDS, *conversations.COMMANDS)

# The workspaces (tokens per organization) each app was built with, for the routes outside
# Bolt (Twilio webhooks) that post to Slack.
_workspaces: weakref.WeakKeyDictionary[App, Workspaces] = weakref.WeakKeyDictionary()


NOT_INSTALLED = (
    "spokebot isn't installed in this workspace any more. Ask a workspace admin to install it "
    "again from this server's install page (/slack/install)."
)


def workspaces_of(app: App) -> Workspaces:
    return _workspaces[app]


def create_app(
    settings: Settings,
    db: Database,
    *,
    client: WebClient | None = None,
    directory: SlackDirectory | None = None,
    token_verification_enabled: bool = True,
    message_service: MessageService | None = None,
) -> App:
    """The Slack app for `settings` and `db`.

    process_before_response=True: every listener's ack function only calls ack(), so the
    HTTP response goes back at once, and all slow work (database, Web API) runs in Bolt lazy
    listeners after it. This is Bolt's documented pattern for the 3-second rule, and it is
    the same code whether we run under waitress, Socket Mode or a FaaS platform where nothing
    may run after the response. `spokebot serve` makes the lazy listeners durable
    (bot.inbox.make_lazy_listeners_durable): each is recorded before the ack and run by the
    inbox's workers. Lazy listeners' exceptions never reach @app.error, so
    bot.errors.guarded reports them the same way.
    """
    # Before anything logs: tokens, the signing secret and the database password are
    # scrubbed from every log record (bot.log_redaction).
    protect(
        [
            settings.bot_token,
            settings.signing_secret,
            settings.app_token,
            settings.client_secret,
            database_password(settings.database_url),
        ]
    )
    configured = client or make_web_client(settings)
    if settings.oauth:
        from bot.oauth import oauth_app_kwargs

        # Add to Slack: Bolt's OAuth flow, and each request authorized with its workspace's
        # token from the installation store. No bot token: our client (base URL, retry
        # handlers) is the one Bolt copies into each listener's client.
        app = App(
            client=configured,
            signing_secret=settings.signing_secret,
            process_before_response=True,
            logger=logging.getLogger("spokebot.bolt"),
            user_facing_authorize_error_message=NOT_INSTALLED,
            **oauth_app_kwargs(settings, db, configured),
        )
        _workspaces[app] = workspaces_for(settings, db)
    else:
        # The token, not our client: Bolt warns on every start when it is given a client
        # while SLACK_BOT_TOKEN is set. Its own client then takes our base URL and retry
        # handlers (Bolt copies both into each listener's client) before its first call.
        app = App(
            token=settings.bot_token,
            signing_secret=settings.signing_secret,
            process_before_response=True,
            token_verification_enabled=False,
            logger=logging.getLogger("spokebot.bolt"),
        )
        app.client.base_url = configured.base_url
        app.client.retry_handlers = configured.retry_handlers
        if token_verification_enabled:
            app.client.auth_test()  # a rejected token fails here, before serving
        _workspaces[app] = SingleWorkspace(app.client)
    deps = Deps(db, directory or SlackDirectory(), message_service or message_service_from_env())
    put_deps_in_context(app, deps)
    for feature in FEATURES:
        feature.register(app, deps)
    app.spokebot_deps = deps  # type: ignore[attr-defined]  # the durable inbox's workers use them

    @app.error
    def on_error(
        error: Exception, body: dict[str, Any], respond: Respond | None
    ) -> BoltResponse | None:
        report_error(error, body, respond)
        return None

    return app
