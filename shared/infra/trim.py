"""Stream trimming that never drops an entry some consumer group still needs.

An entry may go once every group has acknowledged it: it is older than each
group's oldest pending entry and not after its last-delivered id.

* `trim_acknowledged` (galley's internal streams): a stream with no group at all is
  never trimmed (a group created later starts at id 0), and entries younger than
  `min_age_s` are kept for operators (`galley trace`).
* `trim_by_age` (streams read by others, or by nobody: `articles.published`,
  `articles.rejected`, `dlq.*`): entries older than `keep_s` go, groups or not, but
  never one a group still needs; a stream with no group is also capped at `maxlen`
  entries (the oldest go first).
"""

from __future__ import annotations

import time
from typing import Any

from shared.infra.streams import text


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
    return await _needed(redis, stream, groups)


async def _needed(redis: Any, stream: str, groups: list[dict[Any, Any]]) -> str:
    """The smallest id one of these groups still needs (pending, or not read yet)."""
    floor: str | None = None
    for info in groups:
        name = text(info["name"])
        needed = _next_id(text(info["last-delivered-id"]))
        if int(info["pending"]):
            summary = await redis.xpending(stream, name)
            if summary.get("min"):
                needed = _older(needed, text(summary["min"]))
        floor = needed if floor is None else _older(floor, needed)
    assert floor is not None
    return floor


async def trim_acknowledged(redis: Any, stream: str, *, min_age_s: float = 3600.0) -> int:
    """XTRIM MINID to what every group has acknowledged; returns how many entries went."""
    floor = await safe_min_id(redis, stream)
    if floor is None:
        return 0
    oldest_kept = age_floor(min_age_s)
    return int(await redis.xtrim(stream, minid=_older(floor, oldest_kept), approximate=False))


def age_floor(keep_s: float, now: float | None = None) -> str:
    """The stream id of the moment `keep_s` seconds ago: older entries may go."""
    return f"{max(0, int(((time.time() if now is None else now) - keep_s) * 1000))}-0"


async def trim_by_age(redis: Any, stream: str, *, keep_s: float, maxlen: int | None = None) -> int:
    """XTRIM MINID to `keep_s` ago, never past what a group still needs; with no group on
    the stream, also XTRIM MAXLEN `maxlen`. Returns how many entries went."""
    try:
        groups = await redis.xinfo_groups(stream)
    except Exception as exc:
        if "no such key" in str(exc).lower():
            return 0
        raise
    floor = age_floor(keep_s)
    if groups:
        floor = _older(floor, await _needed(redis, stream, groups))
    removed = int(await redis.xtrim(stream, minid=floor, approximate=False))
    if maxlen is not None and not groups:
        removed += int(await redis.xtrim(stream, maxlen=maxlen, approximate=False))
    return removed
