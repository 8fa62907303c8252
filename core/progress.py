"""How far a campaign got, as people read it: one rounding for every place that shows it."""

from __future__ import annotations


def whole_percent(done: int, total: int) -> int:
    """`done` of `total` in whole percent, rounded down in integers (0.29 * 100 is
    28.999… in floats): 99.6% reads 99%, and 100% only when every one is done."""
    if total <= 0:
        return 0
    return min(max(done, 0), total) * 100 // total
