"""Trimming keeps every entry that any consumer group has not acknowledged."""

from __future__ import annotations

from typing import Any

import pytest

from shared.infra.trim import trim_acknowledged

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
