"""core.timed_jobs on Slack: started inside `spokebot serve`, or alone as `spokebot scheduler`
(in the foreground, until SIGTERM or SIGINT).

Any number of these (and of `spokebot serve` processes running the scheduler) may share one
database: job leases and claimed reminders keep every reminder and digest single.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.notify import SlackNotifier
from bot.settings import Settings
from bot.slack_client import SlackDirectory
from bot.startup import check_slack_token, report_stored_settings
from bot.workspaces import Workspaces, workspaces_for
from core.cli.common import errors_in_one_line
from core.config import environment_value
from core.db import Database
from core.messaging import MessageService, message_service_from_env
from core.notifier import WorkspaceUnavailable
from core.open_db import check_database, open_database
from core.services.inbound import mark_notified, unnotified_replies
from core.timed_jobs.lease import try_acquire
from core.timed_jobs.runner import build_scheduler, default_holder

log = logging.getLogger("spokebot.scheduler")


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def start_scheduler(
    db: Database,
    workspaces: Workspaces,
    message_service: MessageService | None = None,
    directory: SlackDirectory | None = None,
) -> BackgroundScheduler:
    """Start the scheduled jobs on background threads (also what `spokebot serve` calls, with
    its listeners' directory: one cache of DM channels per process); with a message service,
    texts whose outcome was lost are reconciled every 30 s too."""
    directory = directory or SlackDirectory()
    notifier = SlackNotifier(db, directory=directory, workspaces=workspaces)
    scheduler = build_scheduler(db, notifier, message_service=message_service)
    scheduler.add_job(
        renotify_replies,
        IntervalTrigger(seconds=RENOTIFY_EVERY.total_seconds(), timezone=UTC),
        args=[db, workspaces, directory],
        id="renotify-replies",
        next_run_time=datetime.now(UTC),
    )
    from bot.texter_notices import deliver_notices  # texts the reconciler settled, and so on

    scheduler.add_job(
        deliver_notices,
        IntervalTrigger(seconds=environment_value("TEXTER_NOTICES_SECONDS"), timezone=UTC),
        args=[db, workspaces],
        id="texter-notices",
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    log.info("scheduler started: reply reminders, stale releases, admin digest")
    return scheduler


RENOTIFY_EVERY = timedelta(seconds=30)
RENOTIFY_AFTER = timedelta(seconds=30)  # the webhook's own notification had its chance


def renotify_replies(
    db: Database, workspaces: Workspaces, directory: SlackDirectory | None = None
) -> None:
    """Tell texters of replies whose notification never went out (one process per tick)."""
    holder, now = default_holder(), datetime.now(UTC)
    try:
        if not try_acquire(db, "renotify-replies", holder, now, RENOTIFY_EVERY / 2):
            return
        notifier = SlackNotifier(db, directory=directory, workspaces=workspaces)
        for result in unnotified_replies(db, now - RENOTIFY_AFTER):
            try:
                notifier.notify_inbound(result)
            except WorkspaceUnavailable as error:  # that workspace only; the others go on
                log.warning("re-notifying reply %s skipped (%s)", result.message_id, error)
                continue
            except Exception as error:  # Slack still down: the next tick tries again
                log.warning("re-notifying reply %s failed (%s)", result.message_id, error)
                return
            mark_notified(db, result.message_id)
    except Exception as error:
        log.error("re-notifying replies failed (%s); next tick retries", type(error).__name__)


def run_until_stopped(
    db: Database,
    workspaces: Workspaces,
    stop: threading.Event,
    message_service: MessageService | None = None,
) -> None:
    scheduler = start_scheduler(db, workspaces, message_service)
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
        service = message_service_from_env()  # texts with a lost outcome are reconciled here
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
        run_until_stopped(db, workspaces, stop, service)
    finally:
        db.dispose()
