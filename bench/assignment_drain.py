"""Draining a campaign: T texter threads ask for batches until told nothing is left (or a
fraction of the campaign is assigned), in rounds that alternate between the variants.

Variants, each on its own copy of the same database:
- spokebot: `request_batch` (strategy finished-replies);
- floor: spokebot's claim statement alone, one statement in autocommit through the same
  library stack (no reads, no counts, no transaction), starting where spokebot's claim would
  (core/services/claim_floor.py): what one request cannot go below;
- baseline: Spoke's table shape and query sequence.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, text

from bench.assignment_setup import (
    BASELINE_CLAIM,
    BASELINE_COUNT_AVAILABLE,
    BASELINE_COUNT_HELD,
    MARK_SENT,
    Prepared,
    Texter,
    inside_texting_hours,
)
from bench.assignment_stats import Drain, Integrity, Round, Speed
from core.db import Database, make_engine

MAX_CONSECUTIVE_ERRORS = 5

RequestFn = Callable[[Texter], list[int] | None]  # contact ids; None: told nothing is left


def _ours(db: Database, campaign_id: int, batch: int) -> RequestFn:
    from core.refusals import RefusalReason
    from core.services.batches import request_batch

    now = inside_texting_hours()

    def request(texter: Texter) -> list[int] | None:
        result = request_batch(db, campaign_id, texter.user_id, requested=batch, now=now)
        if result.assigned:
            return list(result.contact_ids)
        if result.refusal is not None and result.refusal.reason == RefusalReason.NO_INITIALS_LEFT:
            return None
        raise RuntimeError(f"unexpected refusal: {result.refusal}")

    return request


def _floor(engine: Engine, campaign_id: int, batch: int) -> RequestFn:
    from core.services.claim_floor import ClaimFloors
    from core.services.contact_pool import _claim_statement
    from strategies.base import DEFAULT_SELECTION

    # Unchecked: the floor decides on nothing, so it claims whatever version it finds (the
    # statement still moves the texter's holdings version, as spokebot's claim does).
    statuses = DEFAULT_SELECTION.statuses
    claim = _claim_statement("postgresql", statuses, False, True, False)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    floors = ClaimFloors()  # where to start, as spokebot's claims choose it

    def take(texter: Texter, after: int | None, count: int) -> list[int]:
        parameters = {
            "claim_campaign": campaign_id,
            "after_id": after or 0,
            "count": count,
            "claimant": texter.assignment_id,
            "claimed_at": datetime.now(UTC),
        }
        with autocommit.connect() as conn:
            _moved, ids = conn.execute(claim, parameters).one()
            return list(ids or [])

    def request(texter: Texter) -> list[int] | None:
        floor, start = floors.starts(campaign_id, statuses, batch)
        ids = take(texter, start, batch)
        if len(ids) < batch and start != floor:
            floors.overshot(campaign_id, statuses)
            ids += take(texter, floor, batch - len(ids))
        if len(ids) < batch and floor is not None:
            ids += take(texter, None, batch - len(ids))
        if not ids:
            return None
        floors.reached(campaign_id, statuses, max(ids))
        return ids

    return request


def _baseline(engine: Engine, campaign_id: int, batch: int) -> RequestFn:
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    status = "needsMessage"

    def request(texter: Texter) -> list[int] | None:
        with autocommit.connect() as conn:
            available = conn.execute(
                BASELINE_COUNT_AVAILABLE, {"campaign": campaign_id, "status": status}
            ).scalar_one()
            if not available:
                return None
            conn.execute(BASELINE_COUNT_HELD, {"assignment": texter.assignment_id}).scalar_one()
            number = min(batch, available)
            ids = conn.execute(
                BASELINE_CLAIM,
                {
                    "assignment": texter.assignment_id,
                    "campaign": campaign_id,
                    "status": status,
                    "n": number,
                },
            ).scalars()
            return list(ids)

    return request


class Drainer:
    """One variant's drain, run a round at a time up to a growing share of the campaign."""

    def __init__(self, variant: str, prepared: Prepared, contacts: int, batch: int) -> None:
        self.prepared = prepared
        texters = prepared.texters
        self.db = Database(
            make_engine(prepared.urls[variant], pool_size=len(texters) + 2, max_overflow=4)
        )
        campaign_id = prepared.campaign_id
        if variant == "baseline":
            self.request = _baseline(self.db.engine, campaign_id, batch)
        elif variant == "floor":
            self.request = _floor(self.db.engine, campaign_id, batch)
        else:
            self.request = _ours(self.db, campaign_id, batch)
        self.result = Drain(variant, contacts, len(texters), batch)
        self.mine: dict[int, list[int]] = {t.assignment_id: [] for t in texters}
        self.finished: set[int] = set()  # texters told nothing is left, or failing
        self.assigned_so_far = 0

    def run_round(self, limit: float, speed: Speed, console: Console, progress: bool) -> None:
        """Texters ask until `limit` contacts are assigned in all (or nothing is left)."""
        result, texters = self.result, self.prepared.texters
        index = len(result.rounds)
        this_round = Round(load_average=round(os.getloadavg()[0], 2), speed=speed)
        result.rounds.append(this_round)
        lock = threading.Lock()
        start = threading.Barrier(len(texters) + 1)
        columns = [
            TextColumn(f"{result.variant:>9} round {index + 1}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, console=console, disable=not progress, transient=True) as bar:
            task = bar.add_task(result.variant, total=result.contacts)
            bar.advance(task, self.assigned_so_far)

            def texter_loop(texter: Texter) -> None:
                errors_in_a_row = 0
                start.wait()
                while self.assigned_so_far < limit and texter.assignment_id not in self.finished:
                    begun, cpu_begun = time.perf_counter(), time.thread_time()
                    try:
                        ids = self.request(texter)
                    except Exception as exc:  # counted and reported, then retried
                        with lock:
                            result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                        errors_in_a_row += 1
                        if errors_in_a_row >= MAX_CONSECUTIVE_ERRORS:
                            self.finished.add(texter.assignment_id)
                        continue
                    cpu = time.thread_time() - cpu_begun
                    elapsed = time.perf_counter() - begun
                    errors_in_a_row = 0
                    if not ids:
                        with lock:
                            result.empty_requests += 1
                        if ids is None:
                            self.finished.add(texter.assignment_id)
                        continue
                    with lock:
                        result.latencies.append(elapsed)
                        result.cpu.append(cpu)
                        result.round_of.append(index)
                        result.drained_at.append(self.assigned_so_far / max(result.contacts, 1))
                        self.assigned_so_far += len(ids)
                    self.mine[texter.assignment_id].extend(ids)
                    bar.advance(task, len(ids))
                    with self.db.engine.begin() as conn:  # the texter sends the batch
                        conn.execute(MARK_SENT, {"ids": ids})

            threads = [
                threading.Thread(target=texter_loop, args=(t,), name=f"texter-{i}", daemon=True)
                for i, t in enumerate(texters)
            ]
            for thread in threads:
                thread.start()
            start.wait()
            began = time.perf_counter()
            for thread in threads:
                thread.join()
            this_round.wall_seconds = time.perf_counter() - began

    def finish(self, calibration: tuple[Speed, Speed], complete: bool) -> Drain:
        result = self.result
        result.given = self.mine
        result.calibration_ms = calibration
        result.integrity = check_integrity(
            self.db.engine, self.prepared.campaign_id, result.contacts, self.mine, complete
        )
        result.server = server_stats(self.db.engine)
        self.db.dispose()
        return result


def drain_alternating(
    prepared: Prepared,
    variants: list[str],
    contacts: int,
    batch: int,
    console: Console,
    show_progress: bool,
    stop_after: float = 1.0,
    rounds: int = 1,
) -> dict[str, Drain]:
    """Round r lets every variant in turn drain up to r/rounds of `stop_after`, so each
    comparison is between figures taken minutes apart on the same machine."""
    drainers = {v: Drainer(v, prepared, contacts, batch) for v in variants}
    first = next(iter(drainers.values())).db.engine
    before = machine_speed(first)
    speed = before
    for index in range(rounds):
        if index:
            speed = machine_speed(first)
        limit = contacts * stop_after * (index + 1) / rounds
        for drainer in drainers.values():
            drainer.run_round(limit, speed, console, show_progress)
    after = machine_speed(first)
    return {v: d.finish((before, after), stop_after >= 1.0) for v, d in drainers.items()}


def check_integrity(
    engine: Engine,
    campaign_id: int,
    contacts: int,
    given: dict[int, list[int]],
    complete: bool = True,
) -> Integrity:
    """Complete drains must have assigned every contact; a drain stopped early, exactly the
    ones told (the rest still unassigned)."""
    told_total = sum(len(ids) for ids in given.values())
    owner_told: dict[int, int] = {}
    for assignment_id, ids in given.items():
        for contact_id in ids:
            owner_told.setdefault(contact_id, assignment_id)
    disagreements = 0
    unassigned = 0
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, assignment_id FROM campaign_contact WHERE campaign_id = :c"),
            {"c": campaign_id},
        )
        for contact_id, assignment_id in rows:
            if assignment_id is None:
                unassigned += 1
            if owner_told.get(contact_id) != assignment_id:
                disagreements += 1
    expected = contacts if complete else len(owner_told)
    return Integrity(expected, told_total, len(owner_told), unassigned, disagreements, contacts)


def server_stats(engine: Engine) -> dict[str, object]:
    """What the drain left behind: dead tuples, (auto)vacuums, the partial index's size."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT n_dead_tup, autovacuum_count, autoanalyze_count "
                "FROM pg_stat_user_tables WHERE relname = 'campaign_contact'"
            )
        ).one()
        size = conn.execute(
            text(
                "SELECT coalesce(pg_relation_size(to_regclass('ix_campaign_contact_claimable')), "
                "pg_relation_size(to_regclass('spoke_campaign_contact_campaign_status_assignment')))"
            )
        ).scalar()
    return {
        "dead_tuples": row[0],
        "autovacuums": row[1],
        "autoanalyzes": row[2],
        "claim_index_bytes": size,
    }


SPEED_QUERY = text("SELECT count(*) FROM generate_series(1, 1000000)")


def machine_speed(engine: Engine) -> Speed:
    """Best of three runs of a fixed pure-Python loop and of a fixed server-side query.

    A shared virtual machine's speed drifts (here the same query took 400-630 ms within a
    minute), and every absolute latency drifts with it; this puts numbers on it per round.
    """
    loop = query = float("inf")
    with engine.connect() as conn:
        for _ in range(3):
            started = time.perf_counter()
            total = 0
            for i in range(2_000_000):
                total += i
            loop = min(loop, time.perf_counter() - started)
            started = time.perf_counter()
            conn.execute(SPEED_QUERY)
            query = min(query, time.perf_counter() - started)
    return loop * 1000, query * 1000
