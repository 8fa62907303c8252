"""What one variant's drain measured: per-request wall time and client CPU, by round, with the
machine's load and speed beside each round, and the integrity of what texters were told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

Speed = tuple[float, float]  # (Python loop ms, server query ms)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


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
class Round:
    """One round of a variant: how long it took and how busy and fast the machine was."""

    wall_seconds: float = 0.0
    load_average: float = 0.0  # 1-minute load average just before the round
    speed: Speed = (0.0, 0.0)  # machine_speed() just before the round (all variants)


@dataclass
class Drain:
    variant: str
    contacts: int
    texters: int
    batch: int
    latencies: list[float] = field(default_factory=list)  # seconds, requests that got contacts
    cpu: list[float] = field(default_factory=list)  # the calling thread's CPU, same requests
    round_of: list[int] = field(default_factory=list)  # which round each request ran in
    drained_at: list[float] = field(default_factory=list)  # fraction assigned before each one
    rounds: list[Round] = field(default_factory=list)
    empty_requests: int = 0
    errors: list[str] = field(default_factory=list)
    given: dict[int, list[int]] = field(default_factory=dict)
    integrity: Integrity | None = None
    server: dict[str, object] = field(default_factory=dict)
    # machine_speed() before the first round and after the last.
    calibration_ms: tuple[Speed, Speed] = ((0.0, 0.0), (0.0, 0.0))

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def wall_seconds(self) -> float:
        return sum(r.wall_seconds for r in self.rounds)

    @property
    def assigned(self) -> int:
        return sum(len(ids) for ids in self.given.values())

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q)

    def cpu_pct(self, q: float) -> float:
        return percentile(self.cpu, q)

    def in_round(self, index: int, values: Sequence[float]) -> list[float]:
        return [v for v, r in zip(values, self.round_of, strict=True) if r == index]

    def round_pct(self, index: int, q: float) -> float:
        return percentile(self.in_round(index, self.latencies), q)

    def round_cpu_pct(self, index: int, q: float) -> float:
        return percentile(self.in_round(index, self.cpu), q)

    def round_requests_per_second(self, index: int) -> float:
        wall = self.rounds[index].wall_seconds
        return len(self.in_round(index, self.latencies)) / wall if wall else 0.0

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
            "cpu_p50_ms": round(self.cpu_pct(0.50) * 1000, 3),
            "cpu_p99_ms": round(self.cpu_pct(0.99) * 1000, 3),
            "requests_per_second": round(self.requests_per_second, 1),
            "contacts_per_second": round(self.contacts_per_second, 1),
            "p50_ms_by_drain_decile": [round(v * 1000, 2) for v in self.p50_by_decile()],
            "rounds": [
                {
                    "p50_ms": round(self.round_pct(i, 0.5) * 1000, 2),
                    "p99_ms": round(self.round_pct(i, 0.99) * 1000, 2),
                    "cpu_p50_ms": round(self.round_cpu_pct(i, 0.5) * 1000, 3),
                    "requests_per_second": round(self.round_requests_per_second(i), 1),
                    "load_average": r.load_average,
                    "speed_ms": {
                        "python_loop": round(r.speed[0], 1),
                        "server_query": round(r.speed[1], 1),
                    },
                }
                for i, r in enumerate(self.rounds)
            ],
            "integrity_ok": bool(self.integrity and self.integrity.ok),
            "integrity": asdict(self.integrity) if self.integrity else None,
            "server": self.server,
            "calibration_ms": {
                when: {"python_loop": round(speed[0], 1), "server_query": round(speed[1], 1)}
                for when, speed in zip(("before", "after"), self.calibration_ms, strict=True)
            },
        }
