"""CPU time of the pipeline's processes, for CPU per article in a phase of the bench.

Reads utime + stime from /proc/<pid>/stat (Linux): the time a process has run on any
core, in its own threads included (aiosqlite's, uvloop's).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """CPU seconds the process has used so far (0.0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def per_article_ms(
    before: Mapping[str, float], after: Mapping[str, float], articles: int
) -> dict[str, float]:
    """Milliseconds of CPU per article for each process, and `services` (all but redis)."""
    used = {name: (after[name] - before.get(name, 0.0)) * 1000 / max(articles, 1) for name in after}
    used["services"] = sum(v for name, v in used.items() if name != "redis")
    return used
