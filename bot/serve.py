"""Running the app: waitress over HTTP, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import logging

from bot.app import create_app
from bot.scheduled.cli import start_scheduler
from bot.settings import Settings
from bot.slack_client import make_web_client
from bot.startup import check_slack_token, report_stored_settings
from bot.web import create_wsgi_app
from core.db import Database
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
    # Reminders, stale releases and the digest run in-process too; job leases in the database
    # keep each tick single however many `spokebot serve` / `spokebot scheduler` processes run.
    start_scheduler(db, make_web_client(settings))
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("spokebot: Socket Mode")
        SocketModeHandler(app, settings.app_token).start()
        return
    import waitress

    log.info("spokebot: listening on %s:%s (POST /slack/events, GET /healthz)", host, settings.port)
    waitress.serve(create_wsgi_app(app, db), host=host, port=settings.port, threads=THREADS)
