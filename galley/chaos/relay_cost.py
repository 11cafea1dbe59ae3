"""What the outbox's watermark costs: `python -m galley.chaos.relay_cost [--rows N]`.

The relay copies the same outbox to a private Redis (AOF everysec) in turns, once with
the guard script alone (how galley relayed before the watermark) and once with the
watermark (the gap check in the same script, `galley:outbox:<id>`), several rounds each,
alternating. For each it prints rows per second, the relay's CPU per row, Redis's CPU
per row and the append-only file's bytes per row, as medians over the rounds. Then it
makes Redis forget the last rows (SIGKILL, AOF cut back, restart) and times the repair.

Figures only, no thresholds: compare the two lines of one run on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from galley.redis_server import RedisServer
from shared.envelope import Envelope
from shared.infra.db import Database
from shared.infra.outbox import OUTBOX_SCHEMA, Chain, OutboxRelay, RedisStreamWriter, enqueue

STREAM = "bench.outbox"


class GuardOnly:
    """The writer as it was before the watermark: the guard script, no chain."""

    def __init__(self, redis: Any) -> None:
        self._inner = RedisStreamWriter(redis)

    async def append_many(
        self, entries: list[tuple[str, dict[str, str]]], chain: Chain | None = None
    ) -> list[str]:
        return await self._inner.append_many(entries)


@dataclass
class Round:
    rows_per_s: float
    relay_cpu_us: float
    redis_cpu_us: float
    aof_bytes: float


def _event(n: int) -> Envelope[dict[str, Any]]:
    body = " ".join(f"word{i % 97}" for i in range(200))  # an article-sized payload
    return Envelope[dict[str, Any]](
        source="/galley/bench",
        type="article.published",
        subject=f"urn:bench:{n}",
        data={"uri": f"urn:bench:{n}", "version": 1, "body_html": f"<p>{body}</p>"},
    )


async def _fill(db: Database, rows: int) -> None:
    async with db.transaction() as conn:
        for n in range(rows):
            await enqueue(conn, _event(n), STREAM)


async def _redis_cpu(redis: aioredis.Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def _fresh(db: Database, redis: aioredis.Redis) -> None:
    """An empty Redis with a freshly rewritten (small) AOF, and an outbox all unsent."""
    await redis.flushall()
    await redis.bgrewriteaof()
    for _ in range(600):
        await asyncio.sleep(0.1)
        if not int((await redis.info("persistence"))["aof_rewrite_in_progress"]):
            break
    async with db.transaction() as conn:
        await conn.execute("UPDATE outbox SET sent_at = NULL, entry_id = NULL")


async def _round(db: Database, redis: aioredis.Redis, server: RedisServer, chained: bool) -> Round:
    await _fresh(db, redis)
    writer: Any = RedisStreamWriter(redis) if chained else GuardOnly(redis)
    relay = OutboxRelay(db, writer)
    rows = int((await db.fetchone("SELECT COUNT(*) FROM outbox"))[0])  # type: ignore[index]
    aof = server.aof_mark().size
    cpu, redis_cpu, wall = time.process_time(), await _redis_cpu(redis), time.perf_counter()
    while await relay.relay_once():
        pass
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    redis_cpu = await _redis_cpu(redis) - redis_cpu
    assert await redis.xlen(STREAM) == rows
    return Round(
        rows / wall,
        cpu / rows * 1e6,
        redis_cpu / rows * 1e6,
        (server.aof_mark().size - aof) / rows,
    )


async def _repair(db: Database, redis: aioredis.Redis, server: RedisServer, lost: int) -> str:
    """Append all rows but `lost`, note the AOF, append those, make Redis forget them."""
    await _fresh(db, redis)
    total = int((await db.fetchone("SELECT COUNT(*) FROM outbox"))[0])  # type: ignore[index]
    relay = OutboxRelay(db, RedisStreamWriter(redis), batch=total - lost)
    await relay.relay_once()
    mark = server.aof_mark()
    while await relay.relay_once():
        pass
    await asyncio.to_thread(server.forget_since, mark)
    await redis.connection_pool.disconnect()
    forgot = total - int(await redis.xlen(STREAM))
    started = time.perf_counter()
    again = await relay.check()
    took = time.perf_counter() - started
    assert await redis.xlen(STREAM) == total
    return (
        f"repair: Redis forgot {forgot} rows; found and appended again {again} in"
        f" {took * 1000:.0f} ms ({again / took:.0f} rows/s)"
    )


async def main(rows: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="galley-relay-cost-") as tmp:
        server = RedisServer(Path(tmp) / "redis", appendonly=True).start()
        redis = aioredis.from_url(server.url)
        await redis.config_set("auto-aof-rewrite-percentage", 0)  # rewrites only ours
        db = await Database.open(Path(tmp) / "outbox.db", schema=[OUTBOX_SCHEMA])
        try:
            await _fill(db, rows)
            results: dict[str, list[Round]] = {"guard only (before)": [], "watermark (now)": []}
            for _ in range(rounds):
                for label, chained in (("guard only (before)", False), ("watermark (now)", True)):
                    results[label].append(await _round(db, redis, server, chained))
            print(f"{rows} rows per round, {rounds} rounds each, medians; Redis AOF everysec")
            print(f"{'':22}{'rows/s':>10}{'relay CPU µs/row':>18}{'Redis CPU µs/row':>18}")
            for label, got in results.items():
                print(
                    f"{label:22}{statistics.median(r.rows_per_s for r in got):10.0f}"
                    f"{statistics.median(r.relay_cpu_us for r in got):18.1f}"
                    f"{statistics.median(r.redis_cpu_us for r in got):18.1f}"
                    f"   AOF {statistics.median(r.aof_bytes for r in got):.0f} bytes/row"
                )
            print(await _repair(db, redis, server, lost=min(2000, rows // 4)))
        finally:
            await db.close()
            await redis.aclose()
            server.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m galley.chaos.relay_cost", description=__doc__)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    asyncio.run(main(a.rows, a.rounds))
