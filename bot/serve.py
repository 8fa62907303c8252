"""Running the app: waitress over HTTP, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.app import create_app
from bot.scheduled.cli import start_scheduler
from bot.settings import Settings
from bot.slack_client import make_web_client
from bot.startup import check_slack_token, report_stored_settings
from bot.web import create_wsgi_app
from core.db import Database
from core.errors import ConfigurationError
from core.messaging import message_service_from_env
from core.open_db import check_database
from core.open_db import open_database as open_checked_database

log = logging.getLogger("spokebot.serve")

THREADS = 16  # waitress worker threads; Bolt's lazy listeners have their own pool


def open_database(settings: Settings) -> Database:
    # SQLite migrates itself; a stale PostgreSQL refuses to start; each failure is one line.
    return open_checked_database(settings.database_url)


def serve(settings: Settings, host: str = "0.0.0.0", *, check_slack: bool = True) -> None:
    check_database(settings.database_url)  # refused or unreachable: said before waiting on Slack
    if check_slack:
        check_slack_token(settings.bot_token, settings.api_url, settings.startup_wait_seconds)
    db = open_database(settings)
    report_stored_settings(db)
    # Slack answered auth.test just now, so Bolt needn't ask again.
    app = create_app(settings, db, token_verification_enabled=False)
    server = None if settings.socket_mode else _listen(create_wsgi_app(app, db), host, settings)
    # Reminders, stale releases and the digest run in-process too; job leases in the database
    # keep each tick single however many `spokebot serve` / `spokebot scheduler` processes run.
    # The outbox's reconciliation of lost send outcomes runs here too (idempotent).
    start_scheduler(db, make_web_client(settings), message_service_from_env())
    if server is not None:
        log.info(
            "spokebot: listening on %s:%s (POST /slack/events, GET /healthz)", host, settings.port
        )
        server.run()
        return
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.info("spokebot: Socket Mode")
    try:
        SocketModeHandler(app, settings.app_token).start()
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        raise ConfigurationError(
            f"Slack refused SLACK_APP_TOKEN ({code}); use an app-level token (xapp-) "
            "with connections:write"
        ) from None


def _listen(wsgi_app: Any, host: str, settings: Settings) -> Any:
    """The bound waitress server; a port in use is one line, before anything else starts."""
    import waitress

    try:
        return waitress.create_server(wsgi_app, host=host, port=settings.port, threads=THREADS)
    except OSError as error:
        raise ConfigurationError(
            f"cannot listen on {host}:{settings.port} ({error.strerror or error}); "
            "set PORT to a free port"
        ) from None
