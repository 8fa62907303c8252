"""APScheduler wiring: the three jobs on timers, each tick guarded so none crashes the bot."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.db import Database
from core.messaging.base import MessageService
from core.models import utcnow
from core.notifier import Notifier
from core.org_settings import effective_setting
from core.services.outbox import ReconcileReport, reconcile_outbox
from core.timed_jobs.jobs import (
    DIGEST_JOB,
    REMINDERS_JOB,
    STALE_JOB,
    TickResult,
    describe_failure,
    lease_ttl,
    run_digest,
    run_reply_reminders,
    run_stale_releases,
)

log = logging.getLogger("spokebot.scheduler")

Clock = Callable[[], datetime]
# The digest check runs at the top of every hour. Its lease is short: the per-organization
# claim already keeps the digest single, and the hour's check must not be blocked by the
# check the same process ran at start-up a few minutes earlier.
DIGEST_LEASE = timedelta(minutes=5)
OUTBOX_JOB = "outbox-reconcile"
OUTBOX_EVERY = timedelta(seconds=30)  # texts with a lost outcome wait at most this long


def default_holder() -> str:
    """Names this process in job_lease rows (for people reading the table)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:128]


class Ticks:
    """The scheduled jobs bound to one database, notifier and clock; each method is one tick
    that logs and swallows any error (the next tick retries)."""

    def __init__(
        self,
        db: Database,
        notifier: Notifier,
        clock: Clock = utcnow,
        holder: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.clock = clock
        self.holder = holder or default_holder()
        self.environ = environ
        self.minutes = effective_setting(None, "REMINDER_INTERVAL_MINUTES", environ)
        self.interval = timedelta(minutes=self.minutes)

    def _next_run(self, name: str) -> datetime:
        now = self.clock()
        if name == DIGEST_JOB:
            return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return now + self.interval

    def reply_reminders(self) -> TickResult | None:
        return self._guarded(REMINDERS_JOB, run_reply_reminders, lease_ttl(self.interval))

    def stale_releases(self) -> TickResult | None:
        return self._guarded(STALE_JOB, run_stale_releases, lease_ttl(self.interval))

    def digest(self) -> TickResult | None:
        return self._guarded(DIGEST_JOB, run_digest, DIGEST_LEASE)

    def outbox(self, service: MessageService) -> ReconcileReport | None:
        """Settle texts whose provider answer was lost (idempotent: no lease needed)."""
        try:
            return reconcile_outbox(self.db, service, self.clock())
        except Exception as error:  # the next run retries
            log.error("outbox reconciliation failed (%s); next run retries", type(error).__name__)
            return None

    def _guarded(
        self, name: str, job: Callable[..., TickResult], lease_for: timedelta
    ) -> TickResult | None:
        try:
            result = job(self.db, self.notifier, self.clock(), self.holder, lease_for, self.environ)
        except Exception as error:  # a bad tick must never stop the scheduler
            # One line per failed tick; describe_failure never logs a driver's message.
            log.error(
                "scheduled job %s failed (%s); next retry at %s UTC (%s)",
                name,
                describe_failure(error),
                f"{self._next_run(name):%Y-%m-%d %H:%M}",
                "hourly" if name == DIGEST_JOB else f"REMINDER_INTERVAL_MINUTES={self.minutes}",
            )
            return None
        if result.ran and (result.sent or result.failed):
            log.info("%s: %d sent, %d failed", name, result.sent, result.failed)
        return result


def build_scheduler(
    db: Database,
    notifier: Notifier,
    clock: Clock = utcnow,
    *,
    holder: str | None = None,
    environ: Mapping[str, str] | None = None,
    message_service: MessageService | None = None,
) -> BackgroundScheduler:
    """A not-yet-started scheduler: reminders and stale releases every REMINDER_INTERVAL_MINUTES
    (environment, default 15), the digest check at the top of every hour; all run once at start."""
    ticks = Ticks(db, notifier, clock, holder, environ)
    scheduler = BackgroundScheduler(
        timezone=UTC,
        # One run at a time per job; runs missed while busy or asleep collapse into one.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    first = datetime.now(UTC)
    every = IntervalTrigger(seconds=ticks.interval.total_seconds(), timezone=UTC)
    scheduler.add_job(ticks.reply_reminders, every, id=REMINDERS_JOB, next_run_time=first)
    scheduler.add_job(ticks.stale_releases, every, id=STALE_JOB, next_run_time=first)
    hourly = CronTrigger(minute=0, timezone=UTC)
    scheduler.add_job(ticks.digest, hourly, id=DIGEST_JOB, next_run_time=first)
    if message_service is not None:
        outbox = IntervalTrigger(seconds=OUTBOX_EVERY.total_seconds(), timezone=UTC)
        scheduler.add_job(
            ticks.outbox, outbox, args=[message_service], id=OUTBOX_JOB, next_run_time=first
        )
    return scheduler
