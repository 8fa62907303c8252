"""One tick of each scheduled job: take the job's lease, do the work, tell people.

Claim, then send, then undo on failure. A reminder (or a day's digest) is recorded as sent in
the transaction that claims it, with a compare-and-swap the database arbitrates, so however
many processes tick at once only one ever sends it. Sending happens after that commit; if the
send raises, the claim is put back, so the next tick finds it due and sends it again. The one
gap is a process killed between commit and send: that reminder is dropped (at most once,
never twice) and comes back after REMINDER_REPEAT_MINUTES or with the next reply.

Each organization goes through its own Slack workspace. One that can't be reached at all (not
installed, uninstalled, token revoked, account_inactive) is set aside for the rest of the
tick, logged once with its team id, and its claims are put back; the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from core.db import Database
from core.errors import SpokebotError
from core.notifier import Notifier, WorkspaceUnavailable
from core.services.digest import build_digest, claim_digest, digests_due, undo_digest
from core.services.installations import team_of_organization
from core.services.reminders import claim_reminder, due_reminders, undo_reminder
from core.services.stale import release_stale, tell_released
from core.timed_jobs.lease import try_acquire

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
    """Sends one tick's messages: one recipient's failure is logged and never stops the rest;
    an organization whose workspace is unreachable is set aside (and logged) once."""

    db: Database
    notifier: Notifier
    job: str
    sent: int = 0
    failed: int = 0
    retry_at: datetime | None = None  # when the undone claim is tried again
    unavailable: dict[int, str] = field(default_factory=dict)  # organization -> reason
    _checked: set[int] = field(default_factory=set)

    def reachable(self, organization_id: int) -> bool:
        """False when the organization's workspace is known to be out of reach this tick;
        checked (once per tick) before anything is claimed for it."""
        if organization_id in self.unavailable:
            return False
        if organization_id not in self._checked:
            self._checked.add(organization_id)
            try:
                self.notifier.check_workspace(organization_id)
            except WorkspaceUnavailable as error:
                self._set_aside(organization_id, error)
                return False
        return True

    def send(
        self,
        organization_id: int,
        send: Callable[[], None],
        what: str,
        undo: Callable[[], None] | None = None,
        retried_by: str | None = None,
    ) -> None:
        """`undo` puts the claim back for the next tick; `retried_by` names what else retries
        a message this tick couldn't send (neither: it is not retried)."""
        try:
            send()
        except WorkspaceUnavailable as error:
            if undo is not None:
                undo()  # sent once the workspace is back
            self._set_aside(organization_id, error)
            self.failed += 1
        except Exception as error:
            if undo is not None:
                retry = f"; next retry {_at(self.retry_at)}"
            else:
                retry = f"; {retried_by} retries it" if retried_by else "; not retried"
            log.warning("%s failed (%s)%s", what, describe_failure(error), retry)
            if undo is not None:
                undo()  # puts the claim back, so the next tick finds it due
            self.failed += 1
        else:
            self.sent += 1

    def _set_aside(self, organization_id: int, error: WorkspaceUnavailable) -> None:
        if organization_id in self.unavailable:
            return
        self.unavailable[organization_id] = error.reason
        team = error.team_id or team_of_organization(self.db, organization_id) or "(none)"
        log.warning(
            "%s: Slack workspace %s of organization %s unavailable (%s); skipping it this "
            "tick, it resumes once the app is installed again",
            self.job,
            team,
            organization_id,
            error.reason,
        )

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
    deliveries = _Deliveries(db, notifier, REMINDERS_JOB, retry_at=next_tick(now, lease_for))
    for due in due_reminders(db, now, environ):
        org_id = due.summary.organization_id
        if not deliveries.reachable(org_id):
            continue  # nothing claimed: reminded once its workspace is back
        claimed = claim_reminder(db, due, now)
        if claimed is None:
            continue  # another process claimed it since we looked
        summary = claimed.summary
        # One texter's failure must not stop the rest.
        deliveries.send(
            org_id,
            partial(notifier.send_reply_reminder, summary.slack_user_id, summary),
            f"{REMINDERS_JOB}: reply reminder to user {summary.user_id} of organization "
            f"{summary.organization_id}",
            undo=partial(undo_reminder, db, claimed),
        )
    return deliveries.result()


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
    deliveries = _Deliveries(db, notifier, STALE_JOB)
    # An organization whose texters can't be told keeps its contacts until they can.
    for notice in release_stale(db, now, environ, include=deliveries.reachable):
        # Queued with the release: what this tick can't post, the texter notices' job retries.
        deliveries.send(
            notice.organization_id,
            partial(tell_released, db, notice, notifier.send_stale_release_notice, now),
            f"{STALE_JOB}: release notice to user {notice.user_id} about campaign "
            + ", ".join(str(c.campaign_id) for c in notice.campaigns),
            retried_by="the texter notices' job",
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
    retry_at = now.replace(minute=0, second=0, microsecond=0) + HOUR
    deliveries = _Deliveries(db, notifier, DIGEST_JOB, retry_at=retry_at)
    for due in digests_due(db, now, environ):
        if not deliveries.reachable(due.organization_id):
            continue  # the log says why; posted once its workspace is back
        claim = claim_digest(db, due)
        if claim is None:
            continue
        digest = build_digest(db, due.organization_id, due.day)
        if not digest.campaigns:
            continue  # nothing in progress: the day counts as done, nothing to post
        deliveries.send(
            due.organization_id,
            partial(notifier.post_digest, due.channel, digest),
            f"{DIGEST_JOB}: digest for organization {due.organization_id} to DIGEST_CHANNEL "
            f"{due.channel}",
            undo=partial(undo_digest, db, claim),
        )
    return deliveries.result()
