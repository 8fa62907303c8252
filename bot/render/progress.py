"""The one progress bar: `/campaign list` and stats, Home and the admin digest draw it alike."""

from __future__ import annotations

from core.progress import whole_percent

BAR_CELLS = 10


def progress_cells(done: int, total: int) -> str:
    """'▓▓▓▓░░░░░░' for 48 of 100: a cell fills only when its tenth is wholly done."""
    filled = min(max(done, 0), total) * BAR_CELLS // total if total > 0 else 0
    return "▓" * filled + "░" * (BAR_CELLS - filled)


def progress_bar(done: int, total: int) -> str:
    """'▓▓▓▓░░░░░░ 48%': rounded down, so 100% means every one is done."""
    return f"{progress_cells(done, total)} {whole_percent(done, total)}%"
