"""Running the app: waitress over HTTP, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import logging
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.app import create_app, workspaces_of
from bot.inbox import Inbox
from bot.settings import Settings
from bot.startup import check_slack_token, report_stored_settings
from bot.timed_jobs import start_scheduler
from bot.web import create_wsgi_app
from core.config import environment_value
from core.db import Database
from core.errors import ConfigurationError
from core.messaging import message_service_from_env
from core.open_db import check_database
from core.open_db import open_database as open_checked_database

log = logging.getLogger("spokebot.serve")

THREADS = 16  # waitress worker threads; Bolt's lazy listeners have their own pool


@dataclass(frozen=True)
class ServeLimits:
    """How `spokebot serve` holds up under load and stops (environment; see README)."""

    connection_limit: int = 1000  # waitress's own default (100) let 100 slow clients lock all out
    channel_timeout: int = 30  # seconds an idle connection is kept
    drain_seconds: float = 20.0  # on SIGTERM, how long in-flight work may finish
    inbox_workers: int = 8
    inbox_lease_seconds: float = 60.0  # an item a dead process held is retried after this

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServeLimits:
        """From the declared settings (core.config); a bad value is one line naming it."""
        names = {
            "connection_limit": "SERVE_CONNECTION_LIMIT",
            "channel_timeout": "SERVE_CHANNEL_TIMEOUT_SECONDS",
            "drain_seconds": "SHUTDOWN_DRAIN_SECONDS",
            "inbox_workers": "INBOX_WORKERS",
            "inbox_lease_seconds": "INBOX_LEASE_SECONDS",
        }
        values: dict[str, Any] = {}
        for attribute, name in names.items():
            try:
                values[attribute] = environment_value(name, environ)
            except ValueError as error:
                raise ConfigurationError(f"cannot start: {name} is invalid: {error}") from None
        return cls(**values)


def open_database(settings: Settings) -> Database:
    # SQLite migrates itself; a stale PostgreSQL refuses to start; each failure is one line.
    return open_checked_database(settings.database_url)


def _stop(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)  # waitress's loop ends on it; serve() then drains


def serve(settings: Settings, host: str = "0.0.0.0", *, check_slack: bool = True) -> None:
    limits = ServeLimits.from_env()
    check_database(settings.database_url)  # refused or unreachable: said before waiting on Slack
    # With Add to Slack there is no one token to check: each workspace's is checked in use.
    if check_slack and not settings.oauth:
        check_slack_token(settings.bot_token, settings.api_url, settings.startup_wait_seconds)
    db = open_database(settings)
    report_stored_settings(db)
    # Slack answered auth.test just now, so Bolt needn't ask again.
    app = create_app(settings, db, token_verification_enabled=False)
    inbox = server = None
    if not settings.socket_mode:
        inbox = Inbox(
            db,
            app.spokebot_deps,  # type: ignore[attr-defined]
            workspaces_of(app),
            workers=limits.inbox_workers,
            lease=timedelta(seconds=limits.inbox_lease_seconds),
        )
        server = _listen(create_wsgi_app(app, db, inbox), host, settings, limits)
    # Reminders, stale releases and the digest run in-process too; job leases in the database
    # keep each tick single however many `spokebot serve` / `spokebot scheduler` processes run.
    # Each organization's messages go out with its own workspace's token; the outbox's
    # reconciliation of lost send outcomes runs here too (idempotent).
    scheduler = start_scheduler(
        db,
        workspaces_of(app),
        message_service_from_env(),
        app.spokebot_deps.directory,  # type: ignore[attr-defined]  # one DM-channel cache
    )
    if server is not None and inbox is not None:
        log.info(
            "spokebot: listening on %s:%s (POST /slack/events, GET /healthz%s)",
            host,
            settings.port,
            ", GET /slack/install, GET /slack/oauth_redirect" if settings.oauth else "",
        )
        signal.signal(signal.SIGTERM, _stop)
        try:
            server.run()  # until SIGTERM or Ctrl-C
        finally:
            server.close()  # no new requests from here on
            log.info("stopping: in-flight work has up to %.0f s to finish", limits.drain_seconds)
            if inbox.stop(limits.drain_seconds):
                log.info("stopped: no work in flight")
            else:
                log.warning("stopped with work in flight: the next process resumes it")
            scheduler.shutdown(wait=False)
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


def _listen(wsgi_app: Any, host: str, settings: Settings, limits: ServeLimits) -> Any:
    """The bound waitress server; a port in use is one line, before anything else starts."""
    import waitress

    try:
        return waitress.create_server(
            wsgi_app,
            host=host,
            port=settings.port,
            threads=THREADS,
            connection_limit=limits.connection_limit,
            channel_timeout=limits.channel_timeout,
        )
    except OSError as error:
        raise ConfigurationError(
            f"cannot listen on {host}:{settings.port} ({error.strerror or error}); "
            "set PORT to a free port"
        ) from None
