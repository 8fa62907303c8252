"""The assignment benchmark's CI smoke mode: runs end to end on PostgreSQL, integrity intact.

No timing assertions: the figures belong in bench/RESULTS.md, not in the test suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.assignment import Integrity, percentile
from tests.support.database import postgres_admin_url

ROOT = Path(__file__).resolve().parents[1]


def test_smoke_run_drains_the_campaign_with_no_double_assignment() -> None:
    server = postgres_admin_url()
    if server is None:
        pytest.skip("the assignment benchmark is PostgreSQL-only")
    command = [sys.executable, "-m", "bench.assignment", "--contacts", "2000", "--texters", "4"]
    command += ["--batch", "50", "--smoke", "--database-url", server]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("integrity OK") == 3, done.stdout  # ours, the floor, the baseline
    assert "ratio baseline/spokebot" in done.stdout


def test_integrity_fails_on_a_contact_told_twice_or_left_over() -> None:
    assert Integrity(10, 10, 10, 0, 0).ok
    assert not Integrity(10, 11, 10, 0, 0).ok  # one contact told to two texters
    assert not Integrity(10, 9, 9, 1, 0).ok  # one left unassigned
    assert not Integrity(10, 10, 10, 0, 1).ok  # the database says someone else owns one


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0
    assert percentile([], 0.5) == 0.0
