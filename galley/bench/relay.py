"""A plain FastStream three-hop relay doing no work: the "naive" baseline.

One process per hop; each is a FastStream RedisBroker subscriber in a consumer
group with default settings that republishes every message to the next stream
with `broker.publish`, one message at a time (FastStream's own wire format).

    python -m galley.bench.relay REDIS_URL N   ->   relay_articles_per_s=<float>
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
import time
from typing import Any

import redis
import redis.asyncio as aioredis
from faststream.redis import RedisBroker, StreamSub

from galley.bench.ceiling import PAYLOAD

HOPS = ("relay:0", "relay:1", "relay:2", "relay:3")


async def _hop(url: str, source: str, target: str, total: int) -> None:
    broker = RedisBroker(url)
    moved = 0
    finished = asyncio.Event()

    @broker.subscriber(stream=StreamSub(source, group=f"hop-{source}", consumer="hop"))
    async def forward(body: Any) -> None:
        nonlocal moved
        await broker.publish(body, stream=target)
        moved += 1
        if moved >= total:
            finished.set()

    await broker.start()
    await finished.wait()
    await broker.stop()


def _run_hop(url: str, source: str, target: str, total: int) -> None:
    asyncio.run(_hop(url, source, target, total))


async def _feed(url: str, total: int) -> None:
    client = aioredis.from_url(url)
    pipe = client.pipeline(transaction=False)
    for i in range(total):
        event = {"uri": f"urn:relay:{i}", "version": 1, "headline": f"Story {i}",
                 "body": PAYLOAD, "sent": time.time()}
        pipe.xadd(HOPS[0], {"data": json.dumps(event)})
        if len(pipe) >= 250:
            await pipe.execute()
    await pipe.execute()
    await client.aclose()


def measure(url: str, total: int, timeout: float = 120.0) -> float:
    sync = redis.Redis.from_url(url)
    sync.delete(*HOPS)
    for source in HOPS[:3]:  # groups from the start, so the first entries are not skipped
        sync.xgroup_create(source, f"hop-{source}", id="0", mkstream=True)
    ctx = multiprocessing.get_context("spawn")
    hops = [ctx.Process(target=_run_hop, args=(url, HOPS[i], HOPS[i + 1], total))
            for i in range(3)]
    for hop in hops:
        hop.start()
    time.sleep(2.0)  # FastStream start-up
    start = time.perf_counter()
    asyncio.run(_feed(url, total))
    deadline = start + timeout
    while sync.xlen(HOPS[-1]) < total and time.perf_counter() < deadline:
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    arrived = sync.xlen(HOPS[-1])
    for hop in hops:
        hop.join(10)
        if hop.is_alive():
            hop.terminate()
    sync.delete(*HOPS)
    sync.close()
    return arrived / elapsed


def main() -> None:
    url, total = sys.argv[1], int(sys.argv[2])
    print(f"relay_articles_per_s={measure(url, total):.1f}")


if __name__ == "__main__":
    main()
