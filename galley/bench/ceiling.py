"""The transport ceiling, measured here: three relay processes over Redis streams with
consumer groups (read a batch, decode the JSON, append it to the next stream, acknowledge),
doing no other work. Equivalent in method to ../shared/bench/transport_ceiling.py.

    python -m galley.bench.ceiling REDIS_URL N [BATCH]   ->   ceiling_articles_per_s=<float>
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
import time
from collections.abc import Callable
from typing import Any

import redis
import redis.asyncio as aioredis

from shared.infra.streams import stream_entries

HOPS = ("ceiling:0", "ceiling:1", "ceiling:2", "ceiling:3")
PAYLOAD = " ".join(["Troops were withdrawn from the border region, officials said."] * 40)


async def _hop(url: str, source: str, target: str, total: int, batch: int) -> None:
    client = aioredis.from_url(url)
    group = f"hop-{source}"  # created at 0 by run_hops before this process starts
    moved = 0
    while moved < total:
        reply = await client.xreadgroup(group, "hop", {source: ">"}, count=batch, block=500)
        for _name, found in stream_entries(reply):
            pipe = client.pipeline(transaction=False)
            for _id, fields in found:
                event = json.loads(fields["data"])
                event["hop"] = target
                pipe.xadd(target, {"data": json.dumps(event)})
            pipe.xack(source, group, *(entry_id for entry_id, _ in found))
            await pipe.execute()
            moved += len(found)
    await client.aclose()


def _run_hop(url: str, source: str, target: str, total: int, batch: int) -> None:
    asyncio.run(_hop(url, source, target, total, batch))


async def feed(url: str, stream: str, total: int) -> None:
    """Append `total` article-sized JSON events to `stream`, pipelined."""
    client = aioredis.from_url(url)
    pipe = client.pipeline(transaction=False)
    for i in range(total):
        event = {
            "uri": f"urn:{stream}:{i}",
            "version": 1,
            "headline": f"Story {i}",
            "body": PAYLOAD,
            "sent": time.time(),
        }
        pipe.xadd(stream, {"data": json.dumps(event)})
        if len(pipe) >= 250:
            await pipe.execute()
    await pipe.execute()
    await client.aclose()


def run_hops(
    url: str,
    streams: tuple[str, ...],
    hop: Callable[..., None],
    args: tuple[Any, ...],
    total: int,
    *,
    settle: float,
    timeout: float,
    join: float,
) -> float:
    """One process per hop (`hop(url, source, target, total, *args)`), each reading its
    source stream in group `hop-<source>` (created at 0 first, so nothing is skipped);
    returns articles per second from the first append to the last arrival."""
    sync = redis.Redis.from_url(url)
    sync.delete(*streams)
    for source in streams[:-1]:
        sync.xgroup_create(source, f"hop-{source}", id="0", mkstream=True)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=hop, args=(url, streams[i], streams[i + 1], total, *args))
        for i in range(len(streams) - 1)
    ]
    for proc in procs:
        proc.start()
    time.sleep(settle)  # let every hop start and block on its read
    start = time.perf_counter()
    asyncio.run(feed(url, streams[0], total))
    deadline = start + timeout
    while sync.xlen(streams[-1]) < total and time.perf_counter() < deadline:
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    arrived = sync.xlen(streams[-1])
    for proc in procs:
        proc.join(join)
        if proc.is_alive():
            proc.terminate()
    sync.delete(*streams)
    sync.close()
    return arrived / elapsed


def measure(url: str, total: int, batch: int = 100, timeout: float = 120.0) -> float:
    """Articles per second through three hops, first append to last arrival."""
    return run_hops(url, HOPS, _run_hop, (batch,), total, settle=1.0, timeout=timeout, join=5)


def main() -> None:
    url, total = sys.argv[1], int(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    print(f"ceiling_articles_per_s={measure(url, total, batch):.1f}")


if __name__ == "__main__":
    main()
