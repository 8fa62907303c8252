"""The Slack load benchmark's report: the integrity check (a contact given to two texters, a
batch given to someone holding one), percentiles, the machine's speed, the printed figures."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text

from bench.slack_load_run import Outcome
from bench.slack_load_setup import Setup
from core.db import Database
from core.models import Assignment, CampaignContact, User
from core.statuses import MessageStatus

SPEED_QUERY = text("SELECT count(*) FROM generate_series(1, 1000000)")  # as bench.assignment


@dataclass(frozen=True)
class Integrity:
    handed_out: int  # sum of "You got N" over every reply
    assigned: int  # contacts with an owner in the database
    mismatched_texters: int  # texters whose replies and database disagree
    over_held: int  # texters holding more unsent texts than one batch
    second_batch_while_holding: int

    @property
    def ok(self) -> bool:
        return (
            self.handed_out == self.assigned
            and self.mismatched_texters == 0
            and self.over_held == 0
            and self.second_batch_while_holding == 0
        )


def check_integrity(setup: Setup, outcome: Outcome) -> Integrity:
    """A contact given to two texters shows as more texts handed out than owned contacts."""
    db = Database.from_url(setup.database_url)
    try:
        with db.uow(read_only=True) as uow:
            owned = dict(
                uow.session.execute(
                    select(User.slack_user_id, func.count())
                    .select_from(CampaignContact)
                    .join(Assignment, CampaignContact.assignment_id == Assignment.id)
                    .join(User, User.id == Assignment.user_id)
                    .group_by(User.slack_user_id)
                ).all()
            )
            unsent = dict(
                uow.session.execute(
                    select(User.slack_user_id, func.count())
                    .select_from(CampaignContact)
                    .join(Assignment, CampaignContact.assignment_id == Assignment.id)
                    .join(User, User.id == Assignment.user_id)
                    .where(CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value)
                    .group_by(User.slack_user_id)
                ).all()
            )
    finally:
        db.dispose()
    mismatched = sum(
        1 for slack_id in setup.slack_user_ids if owned.get(slack_id, 0) != outcome.got[slack_id]
    )
    return Integrity(
        handed_out=sum(outcome.got.values()),
        assigned=sum(owned.values()),
        mismatched_texters=mismatched,
        over_held=sum(1 for count in unsent.values() if count > setup.batch_size),
        second_batch_while_holding=outcome.second_batch_while_holding,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine_speed(database_url: str) -> str:
    """Best of three runs of a fixed Python loop (and, on PostgreSQL, of bench.assignment's
    fixed server query): on a shared machine every absolute time drifts with these."""
    loop = query = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        loop = min(loop, time.perf_counter() - started)
    figures = f"Python loop {loop * 1000:.0f} ms"
    if database_url.startswith("postgresql"):
        db = Database.from_url(database_url)
        try:
            with db.engine.connect() as conn:
                for _ in range(3):
                    started = time.perf_counter()
                    conn.execute(SPEED_QUERY)
                    query = min(query, time.perf_counter() - started)
        finally:
            db.dispose()
        figures += f", server query {query * 1000:.0f} ms"
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{figures}, load average {load}"


@dataclass(frozen=True)
class Run:
    mode: str  # "closed loop, 50 threads" or "open loop, 20 interactions/s"
    engine: str
    texters: int
    requests: int  # interactions planned (double clicks come on top)
    elapsed: float
    speed_before: str
    speed_after: str
    # CPU seconds over the load: the serving processes (None without /proc), the bench's own
    # (its client threads and the loopback FakeSlack).
    cpu: tuple[float | None, float] = (None, 0.0)


def print_report(run: Run, outcome: Outcome, integrity: Integrity, calls: str) -> int:
    """Prints the figures; the number of errors."""
    sent = len(outcome.ack_seconds)
    errors = sum(outcome.errors.values())
    print(
        f"spokebot serve on {run.engine}, {run.mode}: {run.texters} texters, {sent} signed "
        f"requests ({run.requests} + {sent - run.requests} double clicks) in {run.elapsed:.1f} s "
        f"({sent / run.elapsed:.0f} requests/s)"
    )
    serve_cpu, bench_cpu = run.cpu
    serve = "n/a (no /proc)" if serve_cpu is None else f"{serve_cpu / sent * 1000:.2f} ms"
    print(f"CPU per request: spokebot serve {serve}, this bench {bench_cpu / sent * 1000:.2f} ms")
    print(f"machine speed before: {run.speed_before}")
    print(f"machine speed after:  {run.speed_after}")
    if outcome.dispatch_lag:
        print(
            f"offered on schedule: dispatch lag p50 {ms(percentile(outcome.dispatch_lag, 50))}, "
            f"p99 {ms(percentile(outcome.dispatch_lag, 99))}"
        )
    print(
        f"ack latency: p50 {ms(percentile(outcome.ack_seconds, 50))}, "
        f"p95 {ms(percentile(outcome.ack_seconds, 95))}, "
        f"p99 {ms(percentile(outcome.ack_seconds, 99))}, max {ms(max(outcome.ack_seconds))}"
    )
    print(
        f"private reply: p50 {ms(percentile(outcome.reply_seconds, 50))}, "
        f"p95 {ms(percentile(outcome.reply_seconds, 95))}, "
        f"p99 {ms(percentile(outcome.reply_seconds, 99))}"
    )
    print(f"Web API calls: {calls}")
    batches = sum(outcome.batches.values())
    print(f"batches handed out: {batches} ({integrity.handed_out} texts); errors: {errors}")
    for reason, count in sorted(outcome.errors.items()):
        print(f"  {reason}: {count}")
    print(
        f"integrity {'OK' if integrity.ok else 'FAILED'}: {integrity.handed_out} texts handed out, "
        f"{integrity.assigned} contacts owned, {integrity.mismatched_texters} texters whose "
        f"replies and database disagree, {integrity.over_held} holding more than one batch, "
        f"{integrity.second_batch_while_holding} second batches while holding one"
    )
    return errors
