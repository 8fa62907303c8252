"""`spokebot scheduler`: the scheduled jobs alone, in the foreground, until SIGTERM or SIGINT.

Any number of these (and of `spokebot serve` processes running the scheduler) may share one
database: job leases and claimed reminders keep every reminder and digest single.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

import click
from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.scheduled.notifier import SlackNotifier, make_client
from core.cli.common import UserError
from core.db import Database
from core.errors import SpokebotError
from core.migrate import ensure_current
from core.org_settings import effective_setting
from core.scheduler.runner import build_scheduler

log = logging.getLogger("spokebot.scheduler")


def start_scheduler(db: Database, client: WebClient) -> BackgroundScheduler:
    """Start the scheduled jobs on background threads (also what `spokebot serve` calls)."""
    scheduler = build_scheduler(db, SlackNotifier(client))
    scheduler.start()
    log.info("scheduler started: reply reminders, stale releases, admin digest")
    return scheduler


def run_until_stopped(db: Database, client: WebClient, stop: threading.Event) -> None:
    scheduler = start_scheduler(db, client)
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)  # let a running tick finish its claim or undo
        log.info("scheduler stopped")


@click.command("scheduler")
def scheduler_command() -> None:
    """Run reply reminders, stale releases and the admin digest until stopped.

    Needs SLACK_BOT_TOKEN; reads DATABASE_URL, SLACK_API_URL and REMINDER_INTERVAL_MINUTES.
    """
    token = os.environ.get("SLACK_BOT_TOKEN", "").strip()
    if not token:
        raise UserError("cannot start: SLACK_BOT_TOKEN is not set")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        effective_setting(None, "REMINDER_INTERVAL_MINUTES")  # a bad value stops us here
        db = Database.from_url()
        ensure_current(db.engine)  # SQLite migrates itself; a stale PostgreSQL refuses
    except SpokebotError as error:
        raise UserError(error.message) from None
    client = make_client(token, os.environ.get("SLACK_API_URL", "").strip() or None)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_until_stopped(db, client, stop)
    finally:
        db.dispose()
