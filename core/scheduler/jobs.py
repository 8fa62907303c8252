"""One tick of each scheduled job: take the job's lease, do the work, tell people.

Claim, then send, then undo on failure. A reminder (or a day's digest) is recorded as sent in
the transaction that claims it, with a compare-and-swap the database arbitrates, so however
many processes tick at once only one ever sends it. Sending happens after that commit; if the
send raises, the claim is put back, so the next tick finds it due and sends it again. The one
gap is a process killed between commit and send: that reminder is dropped (at most once,
never twice) and comes back after REMINDER_REPEAT_MINUTES or with the next reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from core.db import Database
from core.errors import SpokebotError
from core.scheduler.lease import try_acquire
from core.scheduler.notifier import Notifier
from core.services.digest import build_digest, claim_digest, digests_due, undo_digest
from core.services.reminders import claim_reminder, due_reminders, undo_reminder
from core.services.stale import release_stale

log = logging.getLogger("spokebot.scheduler")

REMINDERS_JOB = "reply_reminders"
STALE_JOB = "stale_releases"
DIGEST_JOB = "admin_digest"
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class TickResult:
    ran: bool  # False: another process holds this job's lease for this tick
    sent: int = 0
    failed: int = 0


@dataclass
class _Deliveries:
    """Sends one tick's messages: one recipient's failure is logged and never stops the rest."""

    sent: int = 0
    failed: int = 0

    retry_at: datetime | None = None  # when the undone claim is tried again

    def send(
        self, send: Callable[[], None], what: str, undo: Callable[[], None] | None = None
    ) -> None:
        try:
            send()
        except Exception as error:
            retry = f"; next retry {_at(self.retry_at)}" if undo else "; not retried"
            log.warning("%s failed (%s)%s", what, describe_failure(error), retry)
            if undo is not None:
                undo()  # puts the claim back, so the next tick finds it due
            self.failed += 1
        else:
            self.sent += 1

    def result(self) -> TickResult:
        return TickResult(ran=True, sent=self.sent, failed=self.failed)


def describe_failure(error: BaseException) -> str:
    """The error's class and, when it is safe to log, its reason: a domain error's sentence
    (it names the setting or record) or the code Slack answered. Never a driver's message,
    which can carry a connection string."""
    name = type(error).__name__
    if isinstance(error, SpokebotError):
        return f"{name}: {error.message}"
    response = getattr(error, "response", None)
    code = response.get("error") if hasattr(response, "get") else None
    return f"{name}: {code}" if isinstance(code, str) else name


def _at(moment: datetime | None) -> str:
    return f"at {moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "at the next tick"


def next_tick(now: datetime, lease_for: timedelta) -> datetime:
    """When the job runs again: its lease is held for 90% of the interval (lease_ttl)."""
    return now + lease_for / 0.9


def lease_ttl(interval: timedelta) -> timedelta:
    """Held for most of the interval: ticks of other processes within it skip the job, and the
    holder's own next tick finds it expired even if its timer fires a little early."""
    return interval * 0.9


def run_reply_reminders(
    db: Database,
    notifier: Notifier,
    now: datetime,
    holder: str,
    lease_for: timedelta,
    environ: Mapping[str, str] | None = None,
) -> TickResult:
    if not try_acquire(db, REMINDERS_JOB, holder, now, lease_for):
        return TickResult(ran=False)
    sent = failed = 0
    for due in due_reminders(db, now, environ):
        claimed = claim_reminder(db, due, now)
        if claimed is None:
            continue  # another process claimed it since we looked
        summary = claimed.summary
        try:
            notifier.send_reply_reminder(summary.slack_user_id, summary)
        except Exception as error:  # one texter's failure must not stop the rest
            log.warning(
                "%s: reply reminder to user %s of organization %s failed (%s); next retry %s",
                REMINDERS_JOB,
                summary.user_id,
                summary.organization_id,
                describe_failure(error),
                _at(next_tick(now, lease_for)),
            )
            undo_reminder(db, claimed)
            failed += 1
        else:
            sent += 1
    return TickResult(ran=True, sent=sent, failed=failed)


def run_stale_releases(
    db: Database,
    notifier: Notifier,
    now: datetime,
    holder: str,
    lease_for: timedelta,
    environ: Mapping[str, str] | None = None,
) -> TickResult:
    if not try_acquire(db, STALE_JOB, holder, now, lease_for):
        return TickResult(ran=False)
    deliveries = _Deliveries()
    for notice in release_stale(db, now, environ):
        # The release has happened either way; the notice is a courtesy and is not retried.
        deliveries.send(
            partial(notifier.send_stale_release_notice, notice.slack_user_id, notice),
            f"{STALE_JOB}: release notice to user {notice.user_id} about campaign "
            + ", ".join(str(c.campaign_id) for c in notice.campaigns),
        )
    return deliveries.result()


def run_digest(
    db: Database,
    notifier: Notifier,
    now: datetime,
    holder: str,
    lease_for: timedelta,
    environ: Mapping[str, str] | None = None,
) -> TickResult:
    if not try_acquire(db, DIGEST_JOB, holder, now, lease_for):
        return TickResult(ran=False)
    # The day's claim is undone on failure; the hourly check retries it.
    deliveries = _Deliveries(retry_at=now.replace(minute=0, second=0, microsecond=0) + HOUR)
    for due in digests_due(db, now, environ):
        claim = claim_digest(db, due)
        if claim is None:
            continue
        digest = build_digest(db, due.organization_id, due.day)
        if not digest.campaigns:
            continue  # nothing in progress: the day counts as done, nothing to post
        deliveries.send(
            partial(notifier.post_digest, due.channel, digest),
            f"{DIGEST_JOB}: digest for organization {due.organization_id} to DIGEST_CHANNEL "
            f"{due.channel}",
            undo=partial(undo_digest, db, claim),
        )
    return deliveries.result()
