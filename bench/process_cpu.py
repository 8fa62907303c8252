"""CPU time of a process and everything it forked, read from /proc (Linux): what a request
costs the server, which a busy machine's throughput and latency figures hide."""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:  # gone, or not Linux
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return raw[raw.rindex(")") + 2 :].split()


def tree_cpu_seconds(root: int) -> float | None:
    """User plus system CPU seconds of `root` and its living descendants; None without
    /proc. A descendant that already exited is not counted."""
    if _stat_fields(root) is None:
        return None
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None:
            continue
        # After the name: state, ppid (index 1) ... utime, stime (indexes 11 and 12).
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This process's user plus system CPU seconds, all threads."""
    times = os.times()
    return times.user + times.system
