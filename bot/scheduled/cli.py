"""`spokebot scheduler`: the scheduled jobs alone, in the foreground, until SIGTERM or SIGINT.

Any number of these (and of `spokebot serve` processes running the scheduler) may share one
database: job leases and claimed reminders keep every reminder and digest single.
"""

from __future__ import annotations

import logging
import signal
import threading

import click
from apscheduler.schedulers.background import BackgroundScheduler

from bot.scheduled.notifier import SlackNotifier
from bot.settings import Settings
from bot.startup import check_slack_token, report_stored_settings
from bot.workspaces import Workspaces, workspaces_for
from core.cli.common import errors_in_one_line
from core.db import Database
from core.open_db import check_database, open_database
from core.scheduler.runner import build_scheduler

log = logging.getLogger("spokebot.scheduler")


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def start_scheduler(db: Database, workspaces: Workspaces) -> BackgroundScheduler:
    """Start the scheduled jobs on background threads (also what `spokebot serve` calls)."""
    scheduler = build_scheduler(db, SlackNotifier(workspaces))
    scheduler.start()
    log.info("scheduler started: reply reminders, stale releases, admin digest")
    return scheduler


def run_until_stopped(db: Database, workspaces: Workspaces, stop: threading.Event) -> None:
    scheduler = start_scheduler(db, workspaces)
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)  # let a running tick finish its claim or undo
        log.info("scheduler stopped")


@click.command("scheduler")
def scheduler_command() -> None:
    """Run reply reminders, stale releases and the admin digest until stopped.

    Needs SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (each organization's
    installed token); reads DATABASE_URL, SLACK_API_URL, REMINDER_INTERVAL_MINUTES and the
    scheduled jobs' settings (README, Configuration).
    """
    with errors_in_one_line():
        # Every setting is checked before anything is opened: one line each, exit 2.
        settings = Settings.from_env(command="scheduler")
        configure_logging()
        check_database(settings.database_url)  # said before waiting on Slack
        if not settings.oauth:  # with Add to Slack, each workspace's token is checked in use
            check_slack_token(settings.bot_token, settings.api_url, settings.startup_wait_seconds)
        db = open_database(settings.database_url)  # SQLite migrates itself; stale PG refuses
        report_stored_settings(db)
    # Each organization's messages go out with its own workspace's token.
    workspaces = workspaces_for(settings, db)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_until_stopped(db, workspaces, stop)
    finally:
        db.dispose()
