"""A plain FastStream three-hop relay doing no work: the "naive" baseline.

One process per hop; each is a FastStream RedisBroker subscriber in a consumer
group with default settings that republishes every message to the next stream
with `broker.publish`, one message at a time (FastStream's own wire format).

    python -m galley.bench.relay REDIS_URL N   ->   relay_articles_per_s=<float>
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from faststream.redis import RedisBroker, StreamSub

from galley.bench.ceiling import run_hops

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


def measure(url: str, total: int, timeout: float = 120.0) -> float:
    """Articles per second through three FastStream hops, first append to last arrival."""
    return run_hops(url, HOPS, _run_hop, (), total, settle=2.0, timeout=timeout, join=10)


def main() -> None:
    url, total = sys.argv[1], int(sys.argv[2])
    print(f"relay_articles_per_s={measure(url, total):.1f}")


if __name__ == "__main__":
    main()
