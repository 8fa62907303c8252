"""The Slack front door under load: `spokebot serve` answering signed requests from many texters.

    python -m bench.slack_load --texters 100 --requests 1000              # closed loop
    python -m bench.slack_load --texters 100 --requests 1000 --rate 20    # open loop
    python -m bench.slack_load ... --slack-latency 100    # Slack answering in 100 ms
    python -m bench.slack_load --smoke [--sqlite | --database-url URL]

Sets up a fresh database (a new PostgreSQL database on --database-url or
SPOKEBOT_TEST_POSTGRES_URL; a SQLite file otherwise) with an organization, a launched campaign
and T joined texters; starts `spokebot serve` as a process against the test suite's loopback
FakeSlack; then R signed interactions (/sendfirsttexts and Request More clicks, spread over the
texters, every 10th also sent a second time at once as a double click) go out: closed loop
from a pool of client threads (throughput), or open loop at --rate interactions a second
(latency at a fixed offered load). See bench/slack_load_run.py.

Prints the ack latency (time to the HTTP response, Slack's 3-second rule) p50/p95/p99, the time
to the private reply, errors, an integrity check, and the machine's speed before and after;
exit code 0 only when the integrity check passes and there were no errors.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench.process_cpu import own_cpu_seconds, tree_cpu_seconds
from bench.slack_load_report import (
    Integrity,
    Run,
    check_integrity,
    machine_speed,
    percentile,
    print_report,
)
from bench.slack_load_run import FORM, run_closed_loop, run_open_loop, signed_post
from bench.slack_load_setup import fake_slack, fresh_database, prepare, spokebot_serve

__all__ = ["Integrity", "main", "percentile"]  # the smoke test checks these two


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_load", description=__doc__)
    parser.add_argument("--texters", type=int, default=100)
    parser.add_argument("--requests", type=int, default=1000, help="interactions to send")
    parser.add_argument("--batch", type=int, default=5, help="campaign batch size")
    parser.add_argument("--workers", type=int, default=50, help="closed loop: client threads")
    parser.add_argument(
        "--rate", type=float, help="open loop: interactions offered a second (default: closed)"
    )
    parser.add_argument("--database-url", help="PostgreSQL server; SQLite file when absent")
    parser.add_argument("--sqlite", action="store_true", help="SQLite even if a server is set")
    parser.add_argument("--smoke", action="store_true", help="small numbers, for CI")
    parser.add_argument(
        "--serve-processes", type=int, default=1, help="SERVE_PROCESSES for spokebot serve"
    )
    parser.add_argument(
        "--slack-latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="answer every Web API call and response_url post after MS milliseconds, as "
        "Slack would from a real server (default 0: loopback)",
    )
    args = parser.parse_args(argv)
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    if args.slack_latency < 0:
        parser.error("--slack-latency must be 0 or more")
    if args.smoke:
        args.texters, args.requests, args.workers = min(args.texters, 8), min(args.requests, 40), 8
    server = "sqlite" if args.sqlite else args.database_url

    fake = fake_slack(args.slack_latency / 1000)
    log_dir = Path(tempfile.mkdtemp(prefix="spokebot-slack-load-log-"))
    try:
        with fresh_database(server) as url:
            engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            setup = prepare(url, args.texters, args.requests, args.batch)
            serve_log = log_dir / "serve.log"
            with spokebot_serve(url, fake, serve_log, args.serve_processes) as served:
                base = served.base
                signed_post(base, b"ssl_check=1", FORM)  # one warm-up request, not counted
                before = machine_speed(url)
                cpu_before = (tree_cpu_seconds(served.pid), own_cpu_seconds())
                if args.rate is None:
                    mode = f"closed loop, {args.workers} client threads"
                    outcome, elapsed = run_closed_loop(
                        base, fake, setup, args.requests, args.workers
                    )
                else:
                    mode = f"open loop, {args.rate:g} interactions/s offered"
                    outcome, elapsed = run_open_loop(base, fake, setup, args.requests, args.rate)
                if args.serve_processes > 1:
                    mode += f", {args.serve_processes} serving processes"
                if args.slack_latency:
                    mode += f", Slack answering in {args.slack_latency:g} ms"
                cpu = (tree_cpu_seconds(served.pid), own_cpu_seconds())
                after = machine_speed(url)
            integrity = check_integrity(setup, outcome)
    finally:
        fake.stop()
    calls = ", ".join(f"{method} {count}" for method, count in fake.counts.most_common())
    serve_cpu = None if cpu[0] is None or cpu_before[0] is None else cpu[0] - cpu_before[0]
    cpu_spent = (serve_cpu, cpu[1] - cpu_before[1])
    run = Run(mode, engine, args.texters, args.requests, elapsed, before, after, cpu_spent)
    errors = print_report(run, outcome, integrity, calls)
    if errors:
        print(f"server log: {log_dir / 'serve.log'}")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    return 0 if integrity.ok and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
