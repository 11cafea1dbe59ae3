"""Stream trimming that never drops an entry some consumer group still needs.

An entry may go once every group has acknowledged it: it is older than each
group's oldest pending entry and not after its last-delivered id. A stream with
no group at all is never trimmed (a group created later starts at id 0), and
entries younger than `min_age_s` are kept for operators (`galley trace`).
"""

from __future__ import annotations

import time
from typing import Any


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _next_id(entry_id: str) -> str:
    ms, seq = entry_id.split("-")
    return f"{ms}-{int(seq) + 1}"


def _older(a: str, b: str) -> str:
    ka = tuple(int(x) for x in a.split("-"))
    kb = tuple(int(x) for x in b.split("-"))
    return a if ka <= kb else b


async def safe_min_id(redis: Any, stream: str) -> str | None:
    """The smallest id still needed by any group, or None when nothing may be trimmed."""
    try:
        groups = await redis.xinfo_groups(stream)
    except Exception:
        return None
    if not groups:
        return None
    floor: str | None = None
    for info in groups:
        name = _text(info["name"])
        needed = _next_id(_text(info["last-delivered-id"]))
        if int(info["pending"]):
            summary = await redis.xpending(stream, name)
            if summary.get("min"):
                needed = _older(needed, _text(summary["min"]))
        floor = needed if floor is None else _older(floor, needed)
    return floor


async def trim_acknowledged(redis: Any, stream: str, *, min_age_s: float = 3600.0) -> int:
    """XTRIM MINID to what every group has acknowledged; returns how many entries went."""
    floor = await safe_min_id(redis, stream)
    if floor is None:
        return 0
    age_floor = f"{int((time.time() - min_age_s) * 1000)}-0"
    return int(await redis.xtrim(stream, minid=_older(floor, age_floor), approximate=False))
