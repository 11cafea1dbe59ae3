"""Trimming keeps every entry that any consumer group has not acknowledged, by what
the groups acknowledged (internal streams) or by age (streams others read, or nobody)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.infra.trim import trim_acknowledged, trim_by_age

pytestmark = pytest.mark.integration


async def test_trimming_drops_only_what_every_group_acknowledged(redis: Any) -> None:
    ids = [await redis.xadd("t.trim", {"n": str(i)}) for i in range(6)]
    await redis.xgroup_create("t.trim", "fast", id="0")
    await redis.xgroup_create("t.trim", "slow", id="0")
    # fast reads and acks everything; slow reads four and acks only the first two.
    got = await redis.xreadgroup("fast", "f", {"t.trim": ">"})
    await redis.xack("t.trim", "fast", *[i for i, _ in got[0][1]])
    got = await redis.xreadgroup("slow", "s", {"t.trim": ">"}, count=4)
    await redis.xack("t.trim", "slow", *[i for i, _ in got[0][1][:2]])

    removed = await trim_acknowledged(redis, "t.trim", min_age_s=0)

    assert removed == 2
    left = [i for i, _ in await redis.xrange("t.trim")]
    assert left == ids[2:]  # slow's two pending entries and two it never read survive


async def test_a_stream_without_groups_is_never_trimmed(redis: Any) -> None:
    for i in range(3):
        await redis.xadd("t.nogroup", {"n": str(i)})
    assert await trim_acknowledged(redis, "t.nogroup", min_age_s=0) == 0
    assert await redis.xlen("t.nogroup") == 3


async def test_young_entries_are_kept_for_operators(redis: Any) -> None:
    await redis.xadd("t.young", {"n": "1"})
    await redis.xgroup_create("t.young", "g", id="0")
    got = await redis.xreadgroup("g", "c", {"t.young": ">"})
    await redis.xack("t.young", "g", got[0][1][0][0])
    assert await trim_acknowledged(redis, "t.young", min_age_s=3600) == 0


# --- trimming by age: articles.published, articles.rejected, dlq.* ------------------------

DAY_MS = 24 * 3600 * 1000


async def _aged(redis: Any, stream: str, days_ago: list[float]) -> list[bytes]:
    """Entries whose ids say they were appended that many days ago (oldest first)."""
    now = int(time.time() * 1000)
    return [
        await redis.xadd(stream, {"n": str(i)}, id=f"{now - int(d * DAY_MS)}-{i}")
        for i, d in enumerate(days_ago)
    ]


async def test_entries_older_than_the_window_go_but_never_one_a_group_still_needs(
    redis: Any,
) -> None:
    ids = await _aged(redis, "t.published", [40, 39, 38, 37, 1, 0])
    await redis.xgroup_create("t.published", "subscriber", id="0")
    # the subscriber read three of the old entries and acknowledged the first two only
    got = await redis.xreadgroup("subscriber", "s", {"t.published": ">"}, count=3)
    await redis.xack("t.published", "subscriber", *[i for i, _ in got[0][1][:2]])

    removed = await trim_by_age(redis, "t.published", keep_s=30 * 86400)

    assert removed == 2
    assert [i for i, _ in await redis.xrange("t.published")] == ids[2:]


async def test_a_stream_nobody_reads_loses_its_old_entries_and_is_capped_in_length(
    redis: Any,
) -> None:
    ids = await _aged(redis, "t.rejected", [9, 8, 3, 2, 1, 0])
    removed = await trim_by_age(redis, "t.rejected", keep_s=7 * 86400, maxlen=3)
    assert removed == 3  # two older than a week, then one over the cap
    assert [i for i, _ in await redis.xrange("t.rejected")] == ids[3:]


async def test_the_length_cap_never_applies_to_a_stream_a_group_reads(redis: Any) -> None:
    ids = await _aged(redis, "t.dlq", [1, 1, 1, 1])
    await redis.xgroup_create("t.dlq", "operator", id="0")
    assert await trim_by_age(redis, "t.dlq", keep_s=7 * 86400, maxlen=1) == 0
    assert [i for i, _ in await redis.xrange("t.dlq")] == ids


async def test_a_stream_that_does_not_exist_is_left_alone(redis: Any) -> None:
    assert await trim_by_age(redis, "t.never", keep_s=1, maxlen=1) == 0
    assert not await redis.exists("t.never")
