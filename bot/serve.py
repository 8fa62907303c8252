"""Running the app: waitress over HTTP, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.app import create_app, workspaces_of
from bot.inbox import Inbox, make_lazy_listeners_durable
from bot.settings import Settings
from bot.startup import check_slack_token, report_stored_settings
from bot.timed_jobs import start_scheduler
from bot.web import create_wsgi_app
from core.config import INBOX_WORKERS, environment_value
from core.db import Database
from core.errors import ConfigurationError
from core.messaging import message_service_from_env
from core.open_db import check_database
from core.open_db import open_database as open_checked_database

log = logging.getLogger("spokebot.serve")

THREADS = 16  # waitress worker threads; work after the ack runs on the inbox's workers


@dataclass(frozen=True)
class ServeLimits:
    """How `spokebot serve` holds up under load and stops (environment; see README)."""

    connection_limit: int = 1000  # waitress's own default (100) let 100 slow clients lock all out
    channel_timeout: int = 30  # seconds an idle connection is kept
    drain_seconds: float = 20.0  # on SIGTERM, how long in-flight work may finish
    inbox_workers: int = INBOX_WORKERS
    inbox_lease_seconds: float = 60.0  # an item a dead process held is retried after this
    processes: int = 1  # HTTP serving processes sharing the listening socket

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServeLimits:
        """From the declared settings (core.config); a bad value is one line naming it."""
        names = {
            "connection_limit": "SERVE_CONNECTION_LIMIT",
            "channel_timeout": "SERVE_CHANNEL_TIMEOUT_SECONDS",
            "drain_seconds": "SHUTDOWN_DRAIN_SECONDS",
            "inbox_workers": "INBOX_WORKERS",
            "inbox_lease_seconds": "INBOX_LEASE_SECONDS",
            "processes": "SERVE_PROCESSES",
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
    if settings.socket_mode and limits.processes > 1:
        raise ConfigurationError(
            "cannot start: SERVE_PROCESSES is for HTTP; Socket Mode runs one process "
            "(unset SERVE_PROCESSES or SLACK_APP_TOKEN)"
        )
    listener = None if settings.socket_mode else _bind(host, settings.port)
    if limits.processes > 1:
        open_database(settings).dispose()  # a new SQLite file is migrated once, not by each
    # Forked before any thread or database connection exists: each process opens its own.
    siblings = start_siblings(limits.processes - 1)
    db = open_database(settings)
    report_stored_settings(db)
    # Slack answered auth.test just now, so Bolt needn't ask again.
    app = create_app(settings, db, token_verification_enabled=False)
    # Both HTTP and Socket Mode record every request with work after the ack (bot.inbox).
    inbox = Inbox(
        db,
        app.spokebot_deps,  # type: ignore[attr-defined]
        workspaces_of(app),
        workers=limits.inbox_workers,
        lease=timedelta(seconds=limits.inbox_lease_seconds),
    )
    server = None
    if listener is not None:
        server = _listen(create_wsgi_app(app, db, inbox), listener, limits)
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
    signal.signal(signal.SIGTERM, _stop)
    try:
        if server is not None:
            log.info(
                "spokebot: listening on %s:%s (POST /slack/events, GET /healthz%s), pid %d",
                host,
                settings.port,
                ", GET /slack/install, GET /slack/oauth_redirect" if settings.oauth else "",
                os.getpid(),
            )
            try:
                server.run()  # until SIGTERM or Ctrl-C
            finally:
                server.close()  # no new requests from here on
        else:
            _run_socket_mode(app, inbox, settings)
    finally:
        log.info("stopping: in-flight work has up to %.0f s to finish", limits.drain_seconds)
        for pid in siblings:  # they drain alongside this process
            _signal(pid, signal.SIGTERM)
        if inbox.stop(limits.drain_seconds):
            log.info("stopped: no work in flight")
        else:
            log.warning("stopped with work in flight: the next process resumes it")
        scheduler.shutdown(wait=False)
        _wait_for(siblings, limits.drain_seconds + 10)


def _run_socket_mode(app: Any, inbox: Inbox, settings: Settings) -> None:
    """Until SIGTERM or Ctrl-C. Bolt acks over the socket only after the inbox recorded the
    request (a request it could not record gets no ack: Slack retries or shows the error)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    make_lazy_listeners_durable(app, inbox)
    inbox.start()
    log.info("spokebot: Socket Mode")
    handler = SocketModeHandler(app, settings.app_token)
    try:
        handler.start()
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        raise ConfigurationError(
            f"Slack refused SLACK_APP_TOKEN ({code}); use an app-level token (xapp-) "
            "with connections:write"
        ) from None
    finally:
        handler.close()  # no new requests from here on


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound once for every serving process; a port in use is one line,
    before anything else starts."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
        listener.bind(address)
        return listener
    except OSError as error:
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({error.strerror or error}); set PORT to a free port"
        ) from None


def _listen(wsgi_app: Any, listener: socket.socket, limits: ServeLimits) -> Any:
    import waitress

    return waitress.create_server(
        wsgi_app,
        sockets=[listener],
        threads=THREADS,
        connection_limit=limits.connection_limit,
        channel_timeout=limits.channel_timeout,
    )


def start_siblings(count: int) -> list[int]:
    """Fork `count` more processes that go on serving from here (the same listening socket;
    the kernel hands each connection to one of them). In the first process, their pids: it
    stops them when it stops. In each of them, []: they end when it ends."""
    pids: list[int] = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            _end_with(os.getppid())
            return []
        pids.append(pid)
    return pids


def _end_with(parent: int) -> None:
    """SIGTERM this process when `parent` dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG);
    elsewhere a sibling outlives a killed first process until stopped itself."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request above took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signum)


def _wait_for(pids: list[int], seconds: float) -> None:
    """Reap the sibling processes; one still running after `seconds` is killed."""
    deadline = time.monotonic() + seconds
    for pid in pids:
        while time.monotonic() < deadline:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                break
            time.sleep(0.05)
        else:
            log.warning("serving process %d did not stop in time; killing it", pid)
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
