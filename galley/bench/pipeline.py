"""Driving the real services: offer articles, read `articles.published`, fill a Ledger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis.asyncio as aioredis

from galley.bench.stats import Ledger
from shared import names
from shared.infra.streams import stream_entries

PUBLISHED_TYPES = frozenset(names.PUBLISHED_EVENT_TYPES)


class Watcher:
    """Reads articles.published with XREAD from where it stood when started; every
    `article.published` entry is matched into the current ledger by its subject (uri)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.ledger = Ledger()
        self.last_id = "$"
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()  # set after every read
        self._stopping = False

    async def start(self) -> None:
        info = (
            await self.redis.xinfo_stream(names.ARTICLES_PUBLISHED)
            if await self.redis.exists(names.ARTICLES_PUBLISHED)
            else None
        )
        self.last_id = info["last-generated-id"].decode() if info else "0-0"
        self._task = asyncio.create_task(self._run(), name="bench-watcher")

    async def stop(self) -> None:
        """Let the reading loop finish its current XREAD (at most `block` ms) and end.

        Cancelling a task inside redis-py's blocking read could leave the bench hanging
        at exit, with every figure measured but none printed."""
        self._stopping = True
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=5)  # wait, never cancel

    async def _run(self) -> None:
        while not self._stopping:
            reply = await self.redis.xread(
                {names.ARTICLES_PUBLISHED: self.last_id}, count=1000, block=200
            )
            now = time.perf_counter()
            for _stream, found in stream_entries(reply):
                for entry_id, fields in found:
                    self.last_id = entry_id
                    if fields.get("type") == names.ARTICLE_PUBLISHED:
                        self.ledger.publish(fields.get("subject", ""), now)
            self._progress.set()

    async def drain(self, timeout: float) -> bool:
        """Wait until every offered uri is published, or the timeout passes."""
        deadline = time.perf_counter() + timeout
        while not self.ledger.done:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), remaining)
            except TimeoutError:
                break
        return self.ledger.done


async def offer_burst(
    redis: aioredis.Redis,
    ledger: Ledger,
    stream: str,
    entries: Iterable[tuple[str, dict[str, str]]],
    chunk: int = 200,
) -> None:
    """Append entries as fast as Redis takes them (pipelined).

    Each entry is offered (its clock starts) when its chunk is sent, before the reply
    arrives: on a busy machine the services can publish an entry before this loop reads
    the reply of the XADD that carried it.
    """
    pipe = redis.pipeline(transaction=False)
    pending: list[str] = []
    for uri, fields in entries:
        pipe.xadd(stream, fields)  # type: ignore[arg-type]
        pending.append(uri)
        if len(pending) >= chunk:
            await _send(pipe, ledger, pending)
    if pending:
        await _send(pipe, ledger, pending)


async def _send(pipe: Any, ledger: Ledger, uris: list[str]) -> None:
    now = time.perf_counter()
    for uri in uris:
        ledger.offer(uri, now)
    uris.clear()
    await pipe.execute()


async def offer_paced(
    redis: aioredis.Redis,
    ledger: Ledger,
    stream: str,
    rate: float,
    duration: float,
    make: Callable[[int], tuple[str, dict[Any, Any]]],
) -> int:
    """Open loop: article i is due at start + i/rate whatever the pipeline does; latency is
    counted from the due time, so a stalled pipeline cannot hide its queueing delay."""
    total = int(rate * duration)
    start = time.perf_counter()
    i = 0
    while i < total:
        now = time.perf_counter()
        due_until = min(total, int((now - start) * rate) + 1)
        if due_until > i:
            pipe = redis.pipeline(transaction=False)
            batch = []
            for j in range(i, due_until):
                uri, fields = make(j)
                pipe.xadd(stream, fields)
                batch.append((uri, start + j / rate))
            for uri, due in batch:
                ledger.offer(uri, due)
            await pipe.execute()
            i = due_until
        next_due = start + i / rate
        await asyncio.sleep(max(0.0, next_due - time.perf_counter()))
    return total
