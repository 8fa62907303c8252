"""Batch assignment at scale: spokebot's request_batch against its one-statement floor and
Spoke's query sequence.

    python -m bench.assignment --contacts 1000000 --texters 1 --batch 200 [--scaling]
    python -m bench.assignment --contacts 1000000 --texters 50 --batch 200
    python -m bench.assignment --contacts 2000 --texters 4 --batch 50 --smoke

Creates fresh databases on the PostgreSQL server given by --database-url (default
SPOKEBOT_TEST_POSTGRES_URL), loads N contacts with one INSERT ... SELECT generate_series, joins
T texters through join_by_link, and lets T threads drain the campaign, each asking for a batch
of B, "sending" it (bench code marks the batch messaged, since request_batch refuses a texter
who still holds unsent first texts) and asking again until told nothing is left.

The same workload runs against a FLOOR (spokebot's claim statement alone, in autocommit) and a
BASELINE (a copy with Spoke's index shape and Spoke's query sequence per request: a full
COUNT(*) of the campaign's available contacts, a COUNT of the texter's contacts, then the
claiming UPDATE). The variants take turns in --rounds rounds, each round draining the next
share of the campaign, so that ratios compare figures taken minutes apart. Each request's wall
time and the calling thread's CPU time (time.thread_time) are recorded; the machine's load
average and speed are printed beside each round.

Setting up: bench/assignment_setup.py; draining: bench/assignment_drain.py; figures:
bench/assignment_stats.py; printing and targets: bench/assignment_report.py.

Exit status 1 when any integrity check fails (a contact told to two texters, a contact left
unassigned, or the database disagreeing with what texters were told).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.console import Console

from bench import pg
from bench.assignment_drain import drain_alternating
from bench.assignment_report import Run, report, scaling_table, verdicts
from bench.assignment_setup import drop, prepare
from bench.assignment_stats import Drain, Integrity, percentile

__all__ = ["Drain", "Integrity", "main", "percentile"]

SCALING_SIZES = (10_000, 100_000, 1_000_000)


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
    rounds: int = 1,
) -> Run:
    prepared = prepare(server, contacts, texters, batch, console, f"{contacts}", variants)
    try:
        return drain_alternating(
            prepared, list(variants), contacts, batch, console, show_progress, stop_after, rounds
        )
    finally:
        if not keep:
            drop(server, prepared)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.assignment",
        description="Drain a campaign through request_batch, its one-statement floor and "
        "Spoke's query sequence.",
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
    parser.add_argument("--no-floor", action="store_true", help="skip the one-statement floor")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds the variants take turns in, each draining the next share (default 3)",
    )
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
    if args.contacts < 1 or args.texters < 1 or args.batch < 1 or args.rounds < 1:
        parser.error("--contacts, --texters, --batch and --rounds must be positive")
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
        f"PostgreSQL {version}, {_cpus()} CPUs, load average "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
    )

    variants = ["spokebot"]
    if not args.no_floor:
        variants.append("floor")
    if not args.no_baseline:
        variants.append("baseline")
    common = {
        "variants": variants,
        "keep": args.keep,
        "show_progress": show_progress,
        "rounds": args.rounds,
    }
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
        scaling_table(console, scaling, variants, args.batch)

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    console.print(f"peak memory (bench process, max RSS): {peak_kb / 1024:.0f} MiB")
    checks = [c for v in variants if v == "spokebot" for c in verdicts(run, scaling, v)]
    for other in ("floor", "baseline"):
        if other in run and run[other].integrity is not None:
            checks.append(
                (f"{other}: zero double assignments, all assigned", run[other].integrity.ok)
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


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
