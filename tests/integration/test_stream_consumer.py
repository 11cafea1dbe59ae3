"""The shared consumer wiring against a real Redis: history, poison, acks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from shared.envelope import Envelope
from shared.infra.consumer import RedisDeadLetters, Route, StreamConsumer, ensure_group, new_broker
from shared.infra.db import Database
from shared.models import AuthorProfile

pytestmark = pytest.mark.integration

STREAM, GROUP = "test.authors", "test-group"


def author_event(slug: str) -> dict[str, str]:
    return Envelope[AuthorProfile](
        source="/test",
        type="author.updated",
        subject=slug,
        data=AuthorProfile(name=slug.title(), slug=slug),
    ).to_fields()


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)


async def test_entries_written_before_the_group_exists_are_consumed_and_poison_is_parked(
    redis_server: Any, redis: Any, tmp_path: Path
) -> None:
    # Written before any consumer group exists: must not be skipped.
    await redis.xadd(STREAM, author_event("early"))
    await redis.xadd(STREAM, {"type": "author.updated", "data": "{not json"})
    await redis.xadd(STREAM, {**author_event("bad"), "data": '{"name": ""}'})
    await redis.xadd(STREAM, author_event("late"))

    seen: list[str] = []

    async def handle(event: Envelope[AuthorProfile]) -> None:
        seen.append(event.data.slug)

    db = await Database.open(tmp_path / "consumer.db")
    broker = new_broker(redis_server.url)
    StreamConsumer(
        broker=broker,
        stream=STREAM,
        group=GROUP,
        consumer="c1",
        routes={"author.updated": Route(AuthorProfile, handle)},
        dead_letters=lambda: RedisDeadLetters(redis, "dlq.test"),
        db=lambda: db,
    ).register()
    await ensure_group(redis, STREAM, GROUP)
    await broker.start()
    try:
        await wait_for(lambda: len(seen) == 2)
    finally:
        await broker.stop()
        await db.close()

    assert seen == ["early", "late"]
    parked = await redis.xrange("dlq.test")
    reasons = [fields[b"dlq.reason"].decode() for _id, fields in parked]
    assert len(reasons) == 2
    assert reasons[0].startswith("undecodable")
    assert reasons[1].startswith("schema: data/name")
    assert all(fields[b"dlq.entry_id"] for _id, fields in parked)
    pending = await redis.xpending(STREAM, GROUP)
    assert pending["pending"] == 0


async def test_a_consumer_whose_stream_vanished_recreates_its_group_and_goes_on(
    redis_server: Any, redis: Any, tmp_path: Path
) -> None:
    seen: list[str] = []

    async def handle(event: Envelope[AuthorProfile]) -> None:
        seen.append(event.data.slug)

    db = await Database.open(tmp_path / "consumer.db")
    broker = new_broker(redis_server.url)
    consumer = StreamConsumer(
        broker=broker,
        stream=STREAM,
        group=GROUP,
        consumer="c1",
        routes={"author.updated": Route(AuthorProfile, handle)},
        dead_letters=lambda: RedisDeadLetters(redis, "dlq.test"),
        db=lambda: db,
    )
    consumer.register()
    await ensure_group(redis, STREAM, GROUP)
    await broker.start()
    try:
        await redis.xadd(STREAM, author_event("before"))
        await wait_for(lambda: seen == ["before"])
        await redis.delete(STREAM)  # what a Redis restarted without its data looks like
        await wait_for(lambda: not all(s.running for s in consumer.subscribers))
        # A producer writes before the consumer has noticed: this entry must not be skipped.
        await redis.xadd(STREAM, author_event("after"))
        assert await consumer.heal(redis)
        await wait_for(lambda: seen == ["before", "after"])
    finally:
        await broker.stop()
        await db.close()


async def test_a_batched_read_commits_once_and_acks_only_what_committed(
    redis_server: Any, redis: Any, tmp_path: Any
) -> None:
    db = await Database.open(
        tmp_path / "c.db", schema=["CREATE TABLE IF NOT EXISTS seen (slug TEXT PRIMARY KEY)"]
    )
    for slug in ("a", "b", "boom", "c"):
        await redis.xadd(STREAM, author_event(slug))
    await redis.xadd(STREAM, {"type": "author.updated", "data": "{not json"})
    handled: list[str] = []
    commits: list[int] = []

    async def handle(event: Envelope[AuthorProfile]) -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO seen VALUES (?)", (event.data.slug,))
            if event.data.slug == "boom":
                raise RuntimeError("handler failed")
        handled.append(event.data.slug)

    broker = new_broker(redis_server.url)
    StreamConsumer(
        broker=broker,
        stream=STREAM,
        group=GROUP,
        consumer="c1",
        routes={"author.updated": Route(AuthorProfile, handle)},
        dead_letters=lambda: RedisDeadLetters(redis, "dlq.test"),
        claim_idle_ms=600_000,
        db=lambda: db,
        after_commit=lambda: commits.append(len(handled)),
    ).register()
    await ensure_group(redis, STREAM, GROUP)
    await broker.start()
    try:
        await wait_for(lambda: len(commits) >= 1 and sum(commits) >= 3)
    finally:
        await broker.stop()
    try:
        rows = [r["slug"] for r in await db.fetchall("SELECT slug FROM seen ORDER BY slug")]
    finally:
        await db.close()

    assert handled == ["a", "b", "c"]
    assert rows == ["a", "b", "c"]  # the failed entry's savepoint rolled back alone
    pending = await redis.xpending_range(STREAM, GROUP, min="-", max="+", count=10)
    assert len(pending) == 1  # only the failed entry waits for the claimer
    left = await redis.xrange(STREAM, min=pending[0]["message_id"], max=pending[0]["message_id"])
    assert b"boom" in left[0][1][b"subject"]
    parked = await redis.xrange("dlq.test")
    assert len(parked) == 1 and parked[0][1][b"dlq.reason"].startswith(b"undecodable")
