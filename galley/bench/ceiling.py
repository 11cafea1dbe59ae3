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

import redis
import redis.asyncio as aioredis

HOPS = ("ceiling:0", "ceiling:1", "ceiling:2", "ceiling:3")
PAYLOAD = " ".join(["Troops were withdrawn from the border region, officials said."] * 40)


async def _hop(url: str, source: str, target: str, total: int, batch: int) -> None:
    client = aioredis.from_url(url)
    group = f"hop-{source}"
    try:
        await client.xgroup_create(source, group, id="0", mkstream=True)
    except aioredis.ResponseError:
        pass  # created by an earlier hop run
    moved = 0
    while moved < total:
        reply = await client.xreadgroup(group, "hop", {source: ">"}, count=batch, block=500)
        for _name, entries in reply or ():
            pipe = client.pipeline(transaction=False)
            for _id, fields in entries:
                event = json.loads(fields[b"data"])
                event["hop"] = target
                pipe.xadd(target, {"data": json.dumps(event)})
            pipe.xack(source, group, *(entry_id for entry_id, _ in entries))
            await pipe.execute()
            moved += len(entries)
    await client.aclose()


def _run_hop(url: str, source: str, target: str, total: int, batch: int) -> None:
    asyncio.run(_hop(url, source, target, total, batch))


async def _feed(url: str, total: int) -> None:
    client = aioredis.from_url(url)
    pipe = client.pipeline(transaction=False)
    for i in range(total):
        event = {"uri": f"urn:ceiling:{i}", "version": 1, "headline": f"Story {i}",
                 "body": PAYLOAD, "sent": time.time()}
        pipe.xadd(HOPS[0], {"data": json.dumps(event)})
        if len(pipe) >= 250:
            await pipe.execute()
    await pipe.execute()
    await client.aclose()


def measure(url: str, total: int, batch: int = 100, timeout: float = 120.0) -> float:
    """Articles per second through three hops, first append to last arrival."""
    sync = redis.Redis.from_url(url)
    sync.delete(*HOPS)
    ctx = multiprocessing.get_context("spawn")
    hops = [ctx.Process(target=_run_hop, args=(url, HOPS[i], HOPS[i + 1], total, batch))
            for i in range(3)]
    for hop in hops:
        hop.start()
    time.sleep(1.0)  # let every hop create its group and block
    start = time.perf_counter()
    asyncio.run(_feed(url, total))
    deadline = start + timeout
    while sync.xlen(HOPS[-1]) < total:
        if time.perf_counter() > deadline:
            break
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    arrived = sync.xlen(HOPS[-1])
    for hop in hops:
        hop.join(5)
        if hop.is_alive():
            hop.terminate()
    sync.delete(*HOPS)
    sync.close()
    return arrived / elapsed


def main() -> None:
    url, total = sys.argv[1], int(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    print(f"ceiling_articles_per_s={measure(url, total, batch):.1f}")


if __name__ == "__main__":
    main()
