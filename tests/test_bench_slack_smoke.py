"""The Slack load benchmark's smoke mode runs end to end: `spokebot serve` as a process, signed
requests, integrity intact (exit code 0). No timing assertions: figures go in
bench/SLACK_RESULTS.md, not in the test suite."""

from __future__ import annotations

import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from bench.process_cpu import own_cpu_seconds, tree_cpu_seconds
from bench.slack_load import Integrity, percentile
from tests.support.database import postgres_admin_url

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_smoke_run_has_no_errors_and_no_double_assignment(engine: str) -> None:
    command = [sys.executable, "-m", "bench.slack_load", "--smoke"]
    if engine == "sqlite":
        command.append("--sqlite")
    else:
        server = postgres_admin_url()
        if server is None:
            pytest.skip("no PostgreSQL: set SPOKEBOT_TEST_POSTGRES_URL")
        command += ["--database-url", server]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "integrity OK" in done.stdout and "errors: 0" in done.stdout, done.stdout
    assert "ack latency: p50" in done.stdout
    if Path("/proc/self/stat").exists():  # Linux: the serving processes' CPU is read there
        serve_cpu = re.search(r"CPU per request: spokebot serve ([0-9.]+) ms", done.stdout)
        assert serve_cpu is not None and float(serve_cpu.group(1)) > 0, done.stdout


def test_a_process_tree_counts_the_cpu_of_what_it_forked() -> None:
    # The child burns 0.3 s of CPU and stays alive; its parent only waits for it.
    child = (
        "import sys, time; end = time.process_time() + 0.3\n"
        "while time.process_time() < end: pass\n"
        "print('burnt', flush=True); sys.stdin.read()"
    )
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        assert select.select([parent.stdout], [], [], 60)[0], "the child never said it burnt"
        assert parent.stdout.readline().strip() == "burnt"
        spent = tree_cpu_seconds(parent.pid)
    finally:
        parent.communicate("", timeout=10)
    if spent is None:
        pytest.skip("no /proc on this system")
    assert spent >= 0.25  # the child's CPU counts as the parent's tree's
    assert own_cpu_seconds() > 0


def test_integrity_fails_on_any_double_assignment_or_mismatch() -> None:
    assert Integrity(10, 10, 0, 0, 0).ok
    assert not Integrity(11, 10, 0, 0, 0).ok  # one contact handed to two texters
    assert not Integrity(10, 10, 1, 0, 0).ok  # a texter's replies and the database disagree
    assert not Integrity(10, 10, 0, 1, 0).ok  # someone holds two batches
    assert not Integrity(10, 10, 0, 0, 1).ok  # a batch given while one was unsent


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([0.5], 99) == 0.5
