"""The bench starts each timed phase on a freshly rewritten AOF and counts the rewrites
Redis starts during a phase (galley.bench.run)."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis

from galley.bench.run import aof_rewrites, compact_aof, rewrites_since
from galley.redis_server import RedisServer


async def test_compact_aof_rewrites_the_file_and_returns_once_it_is_done(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", appendonly=True).start()
    log = server.data_dir / "redis.log"
    client = aioredis.from_url(server.url)
    try:
        for i in range(200):
            await client.xadd("s", {"n": str(i)})
        before = aof_rewrites(log)
        await compact_aof(client, timeout=30)
        info = await client.info("persistence")
        assert not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]
        assert info["aof_last_bgrewrite_status"] == "ok"
        assert rewrites_since(before, log) == 1
        assert await client.xlen("s") == 200
    finally:
        await client.aclose()
        server.stop()


async def test_compact_aof_without_an_aof_does_nothing(redis: aioredis.Redis) -> None:
    # the shared test server runs without an append-only file: nothing to rewrite
    before = await redis.info("persistence")
    await compact_aof(redis, timeout=5)
    after = await redis.info("persistence")
    assert not after["aof_rewrite_in_progress"] and not after["aof_rewrite_scheduled"]
    # no rewrite was asked for: the last one's duration is still unset (-1) or unchanged
    assert after["aof_last_rewrite_time_sec"] == before["aof_last_rewrite_time_sec"]
    assert not (await redis.info("persistence"))["aof_enabled"]


def test_rewrites_are_counted_from_the_log_and_unknown_without_one(tmp_path: Path) -> None:
    log = tmp_path / "redis.log"
    assert aof_rewrites(log) == -1 and rewrites_since(0, None) == -1
    log.write_text("* Background append only file rewriting started by pid 7\n")
    before = aof_rewrites(log)
    log.write_text(log.read_text() + "* Background append only file rewriting started by pid 9\n")
    assert (before, rewrites_since(before, log), rewrites_since(-1, log)) == (1, 1, -1)
