"""Batch assignment at scale: spokebot's request_batch against Spoke's query sequence.

    python -m bench.assignment --contacts 1000000 --texters 1 --batch 200 [--scaling]
    python -m bench.assignment --contacts 1000000 --texters 50 --batch 200
    python -m bench.assignment --contacts 2000 --texters 4 --batch 50 --smoke

Creates fresh databases on the PostgreSQL server given by --database-url (default
SPOKEBOT_TEST_POSTGRES_URL), loads N contacts with one INSERT ... SELECT generate_series, joins
T texters through join_campaign, and lets T threads drain the campaign, each asking for a batch
of B, "sending" it (bench code marks the batch messaged, since request_batch refuses a texter
who still holds unsent first texts) and asking again until told nothing is left.

The same workload then runs against a BASELINE: a copy of the same database with Spoke's index
shape instead of our partial index, and Spoke's query sequence per request (a full COUNT(*) of
the campaign's available contacts, a COUNT of the texter's contacts, then the claiming UPDATE).
See BASELINE_INDEXES and the queries below. Ratios compare the two runs of the same process.

Exit status 1 when any integrity check fails (a contact told to two texters, a contact left
unassigned, or the database disagreeing with what texters were told).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, text

from bench import pg
from core.db import Database, make_engine
from core.migrate import upgrade
from core.services.campaigns import CampaignSpec, create_campaign, launch_campaign
from core.services.organizations import create_organization

SCALING_SIZES = (10_000, 100_000, 1_000_000)
MAX_CONSECUTIVE_ERRORS = 5

# ---------------------------------------------------------------------------------------------
# The baseline: Spoke's table shape and query sequence (findNewCampaignContact + the default
# finished-replies strategy's count). Our partial indexes (claimable contacts, conversations)
# are dropped; Spoke's composite index and its index on cell take their place.
# (assignment_id, message_status) and the unique (campaign_id, cell) stay: Spoke has the same.
# Queries use bound parameters, as knex sends them, and run in autocommit, one statement at a
# time, as Spoke runs them.
BASELINE_INDEXES = (
    "DROP INDEX ix_campaign_contact_claimable",
    "DROP INDEX ix_campaign_contact_conversations",
    "CREATE INDEX spoke_campaign_contact_campaign_status_assignment "
    "ON campaign_contact (campaign_id, message_status, assignment_id)",
    "CREATE INDEX spoke_campaign_contact_cell ON campaign_contact (cell)",
)
BASELINE_COUNT_AVAILABLE = text(
    "SELECT count(*) FROM campaign_contact WHERE campaign_id = :campaign "
    "AND message_status = :status AND assignment_id IS NULL AND NOT is_opted_out"
)
BASELINE_COUNT_HELD = text(
    "SELECT count(*) FROM campaign_contact WHERE assignment_id = :assignment"
)
BASELINE_CLAIM = text(
    "UPDATE campaign_contact SET assignment_id = :assignment, updated_at = now() "
    "WHERE id IN (SELECT id FROM campaign_contact WHERE campaign_id = :campaign "
    "AND message_status = :status AND NOT is_opted_out AND assignment_id IS NULL "
    "LIMIT :n FOR UPDATE SKIP LOCKED) RETURNING id"
)

# Bench code standing in for the texter sending the batch (same for both variants).
MARK_SENT = text(
    "UPDATE campaign_contact SET message_status = 'messaged', updated_at = now() "
    "WHERE id = ANY(:ids)"
)

LOAD_CONTACTS = text(
    "INSERT INTO campaign_contact (campaign_id, first_name, last_name, cell, zip, custom_fields, "
    "timezone, message_status, is_opted_out, created_at, updated_at) "
    "SELECT :campaign, 'Voter', 'Number ' || g, '+1' || (2002000000 + g)::text, '10001', "
    "'{}', NULL, 'needsMessage', false, now(), now() FROM generate_series(1, :n) AS g"
)


@dataclass(frozen=True)
class Texter:
    user_id: int
    assignment_id: int


@dataclass(frozen=True)
class Prepared:
    urls: dict[str, str]  # variant -> its own copy of the freshly loaded database
    campaign_id: int
    texters: list[Texter]
    load_seconds: float


@dataclass
class Integrity:
    expected: int
    told_total: int
    told_distinct: int
    db_unassigned: int
    db_disagreements: int
    contacts: int | None = None  # the campaign's size, when the drain stopped early

    @property
    def ok(self) -> bool:
        contacts = self.expected if self.contacts is None else self.contacts
        return (
            self.told_total == self.told_distinct == self.expected
            and self.db_unassigned == contacts - self.expected
            and self.db_disagreements == 0
        )

    def describe(self) -> str:
        verdict = "OK" if self.ok else "FAILED"
        return (
            f"{verdict}: {self.told_distinct:,} distinct contacts told to texters "
            f"({self.told_total:,} in total, {self.told_total - self.told_distinct} told twice), "
            f"expected {self.expected:,}; database: {self.db_unassigned} left unassigned, "
            f"{self.db_disagreements} owned by someone other than the texter told"
        )


@dataclass
class Drain:
    variant: str
    contacts: int
    texters: int
    batch: int
    wall_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, requests that got contacts
    drained_at: list[float] = field(default_factory=list)  # fraction assigned before each one
    empty_requests: int = 0
    errors: list[str] = field(default_factory=list)
    given: dict[int, list[int]] = field(default_factory=dict)
    integrity: Integrity | None = None
    server: dict[str, object] = field(default_factory=dict)
    # machine_speed() before and after the drain: how fast the machine was meanwhile.
    calibration_ms: tuple[Speed, Speed] = ((0.0, 0.0), (0.0, 0.0))

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def assigned(self) -> int:
        return sum(len(ids) for ids in self.given.values())

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def contacts_per_second(self) -> float:
        return self.assigned / self.wall_seconds if self.wall_seconds else 0.0

    def p50_by_decile(self) -> list[float]:
        buckets: list[list[float]] = [[] for _ in range(10)]
        for latency, fraction in zip(self.latencies, self.drained_at, strict=True):
            buckets[min(9, int(fraction * 10))].append(latency)
        return [percentile(b, 0.5) for b in buckets]

    def summary(self) -> dict[str, object]:
        return {
            "variant": self.variant,
            "contacts": self.contacts,
            "texters": self.texters,
            "batch": self.batch,
            "assigned": self.assigned,
            "requests": self.requests,
            "empty_requests": self.empty_requests,
            "errors": len(self.errors),
            "wall_seconds": round(self.wall_seconds, 3),
            "p50_ms": round(self.pct(0.50) * 1000, 2),
            "p95_ms": round(self.pct(0.95) * 1000, 2),
            "p99_ms": round(self.pct(0.99) * 1000, 2),
            "max_ms": round(max(self.latencies, default=0.0) * 1000, 2),
            "requests_per_second": round(self.requests_per_second, 1),
            "contacts_per_second": round(self.contacts_per_second, 1),
            "p50_ms_by_drain_decile": [round(v * 1000, 2) for v in self.p50_by_decile()],
            "integrity_ok": bool(self.integrity and self.integrity.ok),
            "integrity": asdict(self.integrity) if self.integrity else None,
            "server": self.server,
            "calibration_ms": {
                when: {"python_loop": round(speed[0], 1), "server_query": round(speed[1], 1)}
                for when, speed in zip(("before", "after"), self.calibration_ms, strict=True)
            },
        }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[rank - 1]


# --- setting up -------------------------------------------------------------------------------


def prepare(
    server: str,
    contacts: int,
    texters: int,
    batch: int,
    console: Console,
    tag: str,
    variants: Sequence[str] = ("spokebot", "baseline"),
) -> Prepared:
    """A campaign of `contacts` unassigned contacts and `texters` joined texters: our schema,
    then an identical copy per other variant (the baseline's with Spoke's indexes)."""
    admin = pg.admin_engine(server)
    ours_name = pg.new_name(f"{tag}_ours")
    pg.create_database(admin, ours_name)
    ours_url = pg.database_url(server, ours_name)
    started = time.perf_counter()
    db = Database(make_engine(ours_url, pool_size=2, max_overflow=0))
    try:
        upgrade(db.engine)
        org_id = create_organization(db, "Benchmark org")
        campaign_id = create_campaign(
            db,
            CampaignSpec(
                organization_id=org_id,
                title=f"Benchmark {contacts:,}",
                script="Hi {firstName}, it's {texterFirstName}. Can we count on your vote?",
                batch_size=batch,
            ),
        )
        with db.engine.begin() as conn:
            conn.execute(LOAD_CONTACTS, {"campaign": campaign_id, "n": contacts})
        launch_campaign(db, campaign_id)
        from core.services.assignment import join_campaign

        token = _join_token(db, campaign_id)
        joined = []
        for i in range(texters):
            result = join_campaign(db, campaign_id, token, f"UBENCH{i:05d}", f"Texter {i}")
            joined.append(Texter(result.user_id, result.assignment_id))
        _vacuum_analyze(db.engine)
    finally:
        db.dispose()
    urls = {"spokebot": ours_url}
    try:
        for variant in variants:
            if variant == "spokebot":
                continue
            name = pg.new_name(
                f"{tag}_{'spoke' if variant == 'baseline' else variant.replace(':', '_')}"
            )
            pg.create_database(admin, name, template=ours_name)
            urls[variant] = pg.database_url(server, name)
            if variant != "baseline":
                continue
            engine = make_engine(urls[variant], pool_size=1, max_overflow=0)
            try:
                with engine.begin() as conn:
                    for statement in BASELINE_INDEXES:
                        conn.execute(text(statement))
                _vacuum_analyze(engine)
            finally:
                engine.dispose()
    finally:
        admin.dispose()
    load_seconds = time.perf_counter() - started
    copies = ", ".join(url.rsplit("/", 1)[1] for url in urls.values())
    console.print(
        f"loaded {contacts:,} contacts and {texters} texters in {load_seconds:.1f} s ({copies})"
    )
    return Prepared(urls, campaign_id, joined, load_seconds)


def drop(server: str, prepared: Prepared) -> None:
    admin = pg.admin_engine(server)
    try:
        for url in prepared.urls.values():
            pg.drop_database(admin, url.rsplit("/", 1)[1])
    finally:
        admin.dispose()


def _join_token(db: Database, campaign_id: int) -> str:
    with db.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT join_token FROM campaign WHERE id = :id"), {"id": campaign_id}
            ).scalar_one()
        )


def _vacuum_analyze(engine: Engine) -> None:
    # A freshly imported campaign gets this from autovacuum soon after the import.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


# --- draining ---------------------------------------------------------------------------------

RequestFn = Callable[[Texter], list[int] | None]  # contact ids; None: told nothing is left


def _ours(db: Database, campaign_id: int, batch: int) -> RequestFn:
    from core.refusals import RefusalReason
    from core.services.assignment import request_batch

    def request(texter: Texter) -> list[int] | None:
        result = request_batch(db, campaign_id, texter.user_id, requested=batch)
        if result.assigned:
            return list(result.contact_ids)
        if result.refusal is not None and result.refusal.reason == RefusalReason.NO_INITIALS_LEFT:
            return None
        raise RuntimeError(f"unexpected refusal: {result.refusal}")

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


def drain(
    variant: str,
    prepared: Prepared,
    contacts: int,
    batch: int,
    console: Console,
    show_progress: bool,
    stop_after: float = 1.0,
) -> Drain:
    return _drain(variant, prepared, contacts, batch, console, show_progress, stop_after)


def _drain(
    variant: str,
    prepared: Prepared,
    contacts: int,
    batch: int,
    console: Console,
    show_progress: bool,
    stop_after: float = 1.0,
) -> Drain:
    texters = prepared.texters
    limit = contacts * stop_after  # texters stop asking once this many were assigned
    db = Database(make_engine(prepared.urls[variant], pool_size=len(texters) + 2, max_overflow=4))
    request = (
        _baseline(db.engine, prepared.campaign_id, batch)
        if variant == "baseline"
        else _ours(db, prepared.campaign_id, batch)
    )
    result = Drain(variant, contacts, len(texters), batch)
    speed_before = machine_speed(db.engine)
    lock = threading.Lock()
    assigned_so_far = 0
    start = threading.Barrier(len(texters) + 1)
    columns = [
        TextColumn(f"{variant:>9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]

    with Progress(*columns, console=console, disable=not show_progress, transient=True) as bar:
        task = bar.add_task(variant, total=contacts)

        def texter_loop(texter: Texter) -> None:
            nonlocal assigned_so_far
            mine: list[int] = []
            errors_in_a_row = 0
            start.wait()
            while assigned_so_far < limit:
                begun = time.perf_counter()
                try:
                    ids = request(texter)
                except Exception as exc:  # counted and reported, then retried
                    with lock:
                        result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    errors_in_a_row += 1
                    if errors_in_a_row >= MAX_CONSECUTIVE_ERRORS:
                        break
                    continue
                elapsed = time.perf_counter() - begun
                errors_in_a_row = 0
                if ids is None or not ids:
                    with lock:
                        result.empty_requests += 1
                    if ids is None:
                        break
                    continue
                with lock:
                    result.latencies.append(elapsed)
                    result.drained_at.append(assigned_so_far / max(contacts, 1))
                    assigned_so_far += len(ids)
                mine.extend(ids)
                bar.advance(task, len(ids))
                with db.engine.begin() as conn:  # the texter sends the batch
                    conn.execute(MARK_SENT, {"ids": ids})
            with lock:
                result.given[texter.assignment_id] = mine

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
        result.wall_seconds = time.perf_counter() - began

    result.calibration_ms = (speed_before, machine_speed(db.engine))
    result.integrity = check_integrity(
        db.engine, prepared.campaign_id, contacts, result.given, complete=stop_after >= 1.0
    )
    result.server = server_stats(db.engine)
    db.dispose()
    return result


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


# --- reporting --------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


Run = dict[str, Drain]  # variant -> its drain, spokebot first


def report(console: Console, run: Run) -> None:
    ours = run["spokebot"]
    table = Table(
        title=f"{ours.contacts:,} contacts, {ours.texters} texters, batch {ours.batch}"
        + (f", first {ours.assigned:,} assigned" if ours.assigned < ours.contacts else ""),
        title_justify="left",
    )
    for column in ("", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s", "contacts/s"):
        table.add_column(column, justify="right" if column else "left")
    for drained in run.values():
        table.add_row(
            drained.variant,
            f"{drained.requests:,}",
            _ms(drained.pct(0.50)),
            _ms(drained.pct(0.95)),
            _ms(drained.pct(0.99)),
            _ms(max(drained.latencies, default=0.0)),
            f"{drained.requests_per_second:,.1f}",
            f"{drained.contacts_per_second:,.0f}",
        )
    console.print(table)
    for drained in run.values():
        deciles = " ".join(_ms(v) for v in drained.p50_by_decile())
        console.print(f"{drained.variant}: p50 ms by tenth of the drain: {deciles}")
        console.print(
            f"{drained.variant}: wall {drained.wall_seconds:.1f} s; "
            f"{drained.empty_requests} requests told nothing is left; "
            f"{len(drained.errors)} errors; after the drain: {drained.server}"
        )
        (loop_before, query_before), (loop_after, query_after) = drained.calibration_ms
        console.print(
            f"{drained.variant}: machine speed before/after the drain: Python loop "
            f"{loop_before:.0f}/{loop_after:.0f} ms, server query "
            f"{query_before:.0f}/{query_after:.0f} ms (absolute times scale with them)"
        )
        for error in sorted(set(drained.errors))[:5]:
            console.print(f"  error: {error}")
        assert drained.integrity is not None
        console.print(f"{drained.variant}: integrity {drained.integrity.describe()}")
    baseline = run.get("baseline")
    if baseline is None:
        return
    for drained in run.values():
        if drained is baseline:
            continue
        console.print(
            f"ratio baseline/{drained.variant}: "
            f"p50 {_ratio(baseline.pct(0.5), drained.pct(0.5)):.1f}x, "
            f"p99 {_ratio(baseline.pct(0.99), drained.pct(0.99)):.1f}x; "
            f"throughput {drained.variant}/baseline "
            f"{_ratio(drained.requests_per_second, baseline.requests_per_second):.1f}x"
        )


def verdicts(
    run: Run, scaling: dict[int, Run], variant: str = "spokebot"
) -> list[tuple[str, bool]]:
    """The issue's targets that this run measured, for one variant."""
    checks: list[tuple[str, bool]] = []
    ours, baseline = run[variant], run.get("baseline")
    big = ours.contacts >= 1_000_000
    name = f"{variant}: "
    if big and ours.texters == 1:
        checks.append((f"{name}p50 {_ms(ours.pct(0.5))} ms <= 6 ms", ours.pct(0.5) <= 0.006))
        checks.append((f"{name}p99 {_ms(ours.pct(0.99))} ms <= 12 ms", ours.pct(0.99) <= 0.012))
        if baseline:
            ratio = _ratio(baseline.pct(0.5), ours.pct(0.5))
            checks.append(
                (f"{name}p50 {ratio:.1f}x faster than the baseline's (>= 15x)", ratio >= 15)
            )
    if big and ours.texters >= 50:
        if baseline:
            ratio = _ratio(ours.requests_per_second, baseline.requests_per_second)
            checks.append((f"{name}throughput {ratio:.1f}x the baseline's (>= 5x)", ratio >= 5))
        checks.append((f"{name}p99 {_ms(ours.pct(0.99))} ms < 1500 ms", ours.pct(0.99) < 1.5))
    if 10_000 in scaling and 1_000_000 in scaling and variant in scaling[10_000]:
        small = scaling[10_000][variant].pct(0.5)
        large = scaling[1_000_000][variant].pct(0.5)
        growth = _ratio(large, small)
        checks.append((f"{name}p50 at 1M {growth:.2f}x p50 at 10k (<= 1.5x)", growth <= 1.5))
    if ours.integrity is not None:
        checks.append((f"{name}zero double assignments, all assigned", ours.integrity.ok))
    return checks


# --- main -------------------------------------------------------------------------------------


def run_once(
    server: str,
    contacts: int,
    texters: int,
    batch: int,
    console: Console,
    *,
    variants: Sequence[str],
    keep: bool,
    show_progress: bool,
    stop_after: float = 1.0,
) -> Run:
    prepared = prepare(server, contacts, texters, batch, console, f"{contacts}", variants)
    try:
        return {
            variant: drain(variant, prepared, contacts, batch, console, show_progress, stop_after)
            for variant in variants
        }
    finally:
        if not keep:
            drop(server, prepared)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.assignment",
        description="Drain a campaign through request_batch and through Spoke's query sequence.",
    )
    parser.add_argument("--contacts", type=int, default=100_000, help="N contacts to load")
    parser.add_argument("--texters", type=int, default=1, help="T concurrent texters")
    parser.add_argument("--batch", type=int, default=200, help="B contacts per request")
    parser.add_argument("--database-url", help="PostgreSQL server (default: test server)")
    parser.add_argument(
        "--scaling", action="store_true", help="also p50 of one texter at 10k, 100k and 1M"
    )
    parser.add_argument("--smoke", action="store_true", help="CI mode: no progress bars")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    parser.add_argument(
        "--stop-after",
        type=float,
        default=1.0,
        metavar="FRACTION",
        help="stop once this fraction of the campaign is assigned (same for every variant; "
        "default 1: the whole drain)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases for inspection")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.contacts < 1 or args.texters < 1 or args.batch < 1:
        parser.error("--contacts, --texters and --batch must be positive")
    if not 0 < args.stop_after <= 1:
        parser.error("--stop-after must be in (0, 1]")

    server = pg.server_url(args.database_url)
    console = Console(highlight=False)
    show_progress = not args.smoke and console.is_terminal
    admin = pg.admin_engine(server)
    version = pg.server_version(admin)
    admin.dispose()
    console.print(
        f"spokebot assignment benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"PostgreSQL {version}, {_cpus()} CPUs"
    )

    variants = ["spokebot"]
    if not args.no_baseline:
        variants.append("baseline")
    common = {"variants": variants, "keep": args.keep, "show_progress": show_progress}
    run = run_once(
        server,
        args.contacts,
        args.texters,
        args.batch,
        console,
        stop_after=args.stop_after,
        **common,
    )
    report(console, run)

    scaling: dict[int, Run] = {}
    if args.scaling:
        for size in SCALING_SIZES:
            if size == args.contacts and args.texters == 1:
                scaling[size] = run
            else:
                scaling[size] = run_once(server, size, 1, args.batch, console, **common)
                report(console, scaling[size])
        table = Table(title=f"scaling: one texter, batch {args.batch}", title_justify="left")
        table.add_column("contacts", justify="right")
        for variant in variants:
            table.add_column(f"{variant} p50 ms", justify="right")
            table.add_column(f"{variant} p99 ms", justify="right")
        for size, sized in scaling.items():
            cells = [f"{size:,}"]
            for variant in variants:
                cells += [_ms(sized[variant].pct(0.5)), _ms(sized[variant].pct(0.99))]
            table.add_row(*cells)
        console.print(table)

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    console.print(f"peak memory (bench process, max RSS): {peak_kb / 1024:.0f} MiB")
    checks = [c for v in variants if v != "baseline" for c in verdicts(run, scaling, v)]
    if "baseline" in run and run["baseline"].integrity is not None:
        checks.append(
            ("baseline: zero double assignments, all assigned", run["baseline"].integrity.ok)
        )
    for label, ok in checks:
        console.print(f"{'MET ' if ok else 'MISS'} {label}")

    if args.json_path:
        figures = {
            "postgresql": version,
            "cpus": _cpus(),
            "peak_rss_mib": round(peak_kb / 1024, 1),
            "runs": [d.summary() for d in run.values()],
            "scaling": {
                str(size): [d.summary() for d in sized.values()] for size, sized in scaling.items()
            },
            "targets": [{"target": label, "met": ok} for label, ok in checks],
        }
        with open(args.json_path, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)

    drained = [*run.values(), *[d for sized in scaling.values() for d in sized.values()]]
    if not all(d.integrity is not None and d.integrity.ok for d in drained):
        console.print("integrity check FAILED")
        return 1
    return 0


Speed = tuple[float, float]  # (Python loop ms, server query ms)

SPEED_QUERY = text("SELECT count(*) FROM generate_series(1, 1000000)")


def machine_speed(engine: Engine) -> Speed:
    """Best of three runs of a fixed pure-Python loop and of a fixed server-side query.

    A shared virtual machine's speed drifts (here the same query took 400-630 ms within a
    minute), and every absolute latency drifts with it; this puts numbers on it per drain.
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


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
