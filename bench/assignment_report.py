"""Printing a run of the assignment benchmark, and its verdict on each target it measured."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bench.assignment_stats import Drain, median

Run = dict[str, Drain]  # variant -> its drain, spokebot first

# A round counts as on a busy host when the 1-minute load average before it was at least
# this (the bench itself keeps about one core busy).
BUSY_LOAD = 2.0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def report(console: Console, run: Run) -> None:
    ours = run["spokebot"]
    table = Table(
        title=f"{ours.contacts:,} contacts, {ours.texters} texters, batch {ours.batch}"
        + (f", first {ours.assigned:,} assigned" if ours.assigned < ours.contacts else ""),
        title_justify="left",
    )
    columns = ("", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU p50 ms", "req/s")
    for column in (*columns, "contacts/s"):
        table.add_column(column, justify="right" if column else "left")
    for drained in run.values():
        table.add_row(
            drained.variant,
            f"{drained.requests:,}",
            _ms(drained.pct(0.50)),
            _ms(drained.pct(0.95)),
            _ms(drained.pct(0.99)),
            _ms(max(drained.latencies, default=0.0)),
            f"{drained.cpu_pct(0.50) * 1000:.3f}",
            f"{drained.requests_per_second:,.1f}",
            f"{drained.contacts_per_second:,.0f}",
        )
    console.print(table)
    _report_rounds(console, run)
    for drained in run.values():
        deciles = " ".join(_ms(v) for v in drained.p50_by_decile())
        console.print(f"{drained.variant}: p50 ms by tenth of the drain: {deciles}")
        console.print(
            f"{drained.variant}: wall {drained.wall_seconds:.1f} s; "
            f"{drained.empty_requests} requests told nothing is left; "
            f"{len(drained.errors)} errors; after the drain: {drained.server}"
        )
        for error in sorted(set(drained.errors))[:5]:
            console.print(f"  error: {error}")
        assert drained.integrity is not None
        console.print(f"{drained.variant}: integrity {drained.integrity.describe()}")
    (loop_before, query_before), (loop_after, query_after) = ours.calibration_ms
    console.print(
        f"machine speed before/after the run: Python loop {loop_before:.0f}/{loop_after:.0f} ms, "
        f"server query {query_before:.0f}/{query_after:.0f} ms (absolute times scale with them)"
    )
    baseline = run.get("baseline")
    if baseline is None:
        return
    for drained in run.values():
        if drained is baseline or drained.variant == "floor":
            continue
        console.print(
            f"ratio baseline/{drained.variant}: "
            f"p50 {_ratio(baseline.pct(0.5), drained.pct(0.5)):.1f}x, "
            f"p99 {_ratio(baseline.pct(0.99), drained.pct(0.99)):.1f}x; "
            f"throughput {drained.variant}/baseline "
            f"{_ratio(drained.requests_per_second, baseline.requests_per_second):.1f}x"
        )


def _report_rounds(console: Console, run: Run) -> None:
    table = Table(title="by round (variants take turns within a round)", title_justify="left")
    for column in ("round", "variant", "load avg", "speed ms", "p50 ms", "p99 ms", "CPU p50"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    table.add_column("req/s", justify="right")
    for index in range(len(run["spokebot"].rounds)):
        for drained in run.values():
            this = drained.rounds[index]
            table.add_row(
                str(index + 1),
                drained.variant,
                f"{this.load_average:.2f}",
                f"{this.speed[0]:.0f}/{this.speed[1]:.0f}",
                _ms(drained.round_pct(index, 0.5)),
                _ms(drained.round_pct(index, 0.99)),
                f"{drained.round_cpu_pct(index, 0.5) * 1000:.3f}",
                f"{drained.round_requests_per_second(index):,.1f}",
            )
    console.print(table)
    console.print("speed ms: a fixed Python loop / a fixed server query, before the round")


def round_ratios(numerator: Drain, denominator: Drain, q: float) -> list[float]:
    """Per round: numerator's percentile q over denominator's."""
    return [
        _ratio(numerator.round_pct(i, q), denominator.round_pct(i, q))
        for i in range(min(len(numerator.rounds), len(denominator.rounds)))
    ]


def _busy(drained: Drain) -> bool:
    return median([r.load_average for r in drained.rounds]) >= BUSY_LOAD


def verdicts(
    run: Run, scaling: dict[int, Run], variant: str = "spokebot"
) -> list[tuple[str, bool]]:
    """The issues' targets that this run measured, for one variant (ratios: the median of
    the per-round ratios)."""
    checks: list[tuple[str, bool]] = []
    ours, baseline, floor = run[variant], run.get("baseline"), run.get("floor")
    big = ours.contacts >= 1_000_000
    name = f"{variant}: "
    if big and ours.texters == 1:
        cpu = ours.cpu_pct(0.5)
        checks.append((f"{name}client CPU p50 {cpu * 1000:.3f} ms <= 1.0 ms", cpu <= 0.001))
        checks.append((f"{name}p50 {_ms(ours.pct(0.5))} ms <= 6 ms", ours.pct(0.5) <= 0.006))
        checks.append((f"{name}p99 {_ms(ours.pct(0.99))} ms <= 12 ms", ours.pct(0.99) <= 0.012))
        if floor:
            ratio = median(round_ratios(ours, floor, 0.5))
            busy = _busy(ours)
            allowed = 1.6 if busy else 1.3
            host = "busy" if busy else "quiet"
            checks.append(
                (
                    f"{name}p50 {ratio:.2f}x the floor's ({host} host: <= {allowed}x)",
                    ratio <= allowed,
                )
            )
        if baseline:
            ratio = median(round_ratios(baseline, ours, 0.5))
            checks.append(
                (f"{name}p50 {ratio:.1f}x faster than the baseline's (>= 25x)", ratio >= 25)
            )
    if big and ours.texters >= 50:
        if baseline:
            ratio = median(
                [
                    _ratio(ours.round_requests_per_second(i), baseline.round_requests_per_second(i))
                    for i in range(len(ours.rounds))
                ]
            )
            checks.append((f"{name}throughput {ratio:.1f}x the baseline's (>= 8x)", ratio >= 8))
        if floor:
            ratio = median(round_ratios(ours, floor, 0.99))
            checks.append((f"{name}p99 {ratio:.2f}x the floor's (<= 1.5x)", ratio <= 1.5))
        checks.append((f"{name}p99 {_ms(ours.pct(0.99))} ms < 1500 ms", ours.pct(0.99) < 1.5))
    if 10_000 in scaling and 1_000_000 in scaling and variant in scaling[10_000]:
        small = scaling[10_000][variant].pct(0.5)
        large = scaling[1_000_000][variant].pct(0.5)
        growth = _ratio(large, small)
        checks.append((f"{name}p50 at 1M {growth:.2f}x p50 at 10k (<= 1.5x)", growth <= 1.5))
    if ours.integrity is not None:
        checks.append((f"{name}zero double assignments, all assigned", ours.integrity.ok))
    return checks


def scaling_table(
    console: Console, scaling: dict[int, Run], variants: list[str], batch: int
) -> None:
    table = Table(title=f"scaling: one texter, batch {batch}", title_justify="left")
    table.add_column("contacts", justify="right")
    for variant in variants:
        table.add_column(f"{variant} p50 ms", justify="right")
        table.add_column(f"{variant} p99 ms", justify="right")
        table.add_column(f"{variant} CPU p50 ms", justify="right")
    for size, sized in scaling.items():
        cells = [f"{size:,}"]
        for variant in variants:
            drained = sized[variant]
            cells += [
                _ms(drained.pct(0.5)),
                _ms(drained.pct(0.99)),
                f"{drained.cpu_pct(0.5) * 1000:.3f}",
            ]
        table.add_row(*cells)
    console.print(table)
