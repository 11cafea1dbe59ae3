"""A Redis that loses its last second (issue 17, case 7).

With `appendfsync everysec` a host crash loses up to about a second of writes Redis had
already acknowledged. Emulated as the issue did: SIGKILL redis-server, cut its
append-only file back to where it ended a moment earlier, start it again. The outbox
has those events marked sent with entry ids that no longer exist; the relay must find
that out and append them again, in order, each once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis as sync_redis
import redis.asyncio as aioredis

from galley.redis_server import RedisServer
from galley.supervisor import Pipeline
from shared import names
from shared.envelope import Envelope
from shared.infra.db import Database
from shared.infra.outbox import OUTBOX_SCHEMA, OutboxRelay, RedisStreamWriter, enqueue
from tests.conftest import load_fixture, private_pipeline
from tests.integration.ops.conftest import Receiver
from tests.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

STREAM = "t.forget"


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server of this test, with its append-only file. `always`, so that
    the file holds every write Redis acknowledged when the test notes its size (with
    `everysec` Redis may hold a write back for up to 2 s while an fsync runs, and the cut
    would take more than the test means to)."""
    server = RedisServer(tmp_path / "redis", appendonly=True, appendfsync="always").start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def client(aof_redis: RedisServer) -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.from_url(aof_redis.url)
    yield redis
    await redis.aclose()


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "outbox.db", schema=[OUTBOX_SCHEMA])
    yield database
    await database.close()


def _event(n: int) -> Envelope[dict[str, Any]]:
    return Envelope[dict[str, Any]](
        source="/galley/test", type="test.happened", subject=f"s{n}", data={"n": n}
    )


async def _enqueue(db: Database, numbers: range) -> None:
    async with db.transaction() as conn:
        for n in numbers:
            await enqueue(conn, _event(n), STREAM)


async def _subjects(redis: aioredis.Redis) -> list[str]:
    return [f[b"subject"].decode() for _, f in await redis.xrange(STREAM)]


async def _all_marked(db: Database) -> bool:
    row = await db.fetchone("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
    return row is not None and row[0] == 0


async def _forget_since(server: RedisServer, mark: Any, client: aioredis.Redis) -> int:
    cut = await asyncio.to_thread(server.forget_since, mark)
    await client.connection_pool.disconnect()  # as any client finds after a restart
    return cut


def _expected(n: int) -> list[str]:
    return [f"s{i}" for i in range(n)]


async def test_rows_redis_forgot_are_appended_again_in_order_before_anything_newer(
    aof_redis: RedisServer, client: aioredis.Redis, db: Database
) -> None:
    relay = OutboxRelay(db, RedisStreamWriter(client))
    await _enqueue(db, range(5))
    assert await relay.relay_once() == 5
    mark = aof_redis.aof_mark()
    await _enqueue(db, range(5, 10))
    assert await relay.relay_once() == 5

    assert await _forget_since(aof_redis, mark, client) > 0
    # Redis forgot five entries the outbox has marked sent, with their entry ids.
    assert await _subjects(client) == _expected(5)
    marked = await db.fetchall("SELECT entry_id FROM outbox WHERE entry_id IS NOT NULL")
    assert len(marked) == 10

    await _enqueue(db, range(10, 12))  # new rows come after the restart
    for _ in range(3):
        await relay.relay_once()

    assert await _subjects(client) == _expected(12)  # each once, lost ones before new ones
    assert (relay.repairs, relay.resent) == (1, 5)
    rows = await db.fetchall("SELECT entry_id FROM outbox ORDER BY seq")
    assert [r["entry_id"] for r in rows] == [i.decode() for i, _ in await client.xrange(STREAM)]


async def test_an_idle_relay_appends_again_what_redis_forgot_without_a_new_row(
    aof_redis: RedisServer, client: aioredis.Redis, db: Database
) -> None:
    relay = OutboxRelay(db, RedisStreamWriter(client), idle_wait=0.05, check_every=0.1)
    task = asyncio.create_task(relay.run())
    try:
        await _enqueue(db, range(3))
        relay.notify()
        await eventually(lambda: _all_marked(db))
        mark = aof_redis.aof_mark()
        await _enqueue(db, range(3, 8))
        relay.notify()
        await eventually(lambda: _all_marked(db))
        await _forget_since(aof_redis, mark, client)
        assert await _subjects(client) == _expected(3)

        async def whole() -> bool:
            return await _subjects(client) == _expected(8)

        await eventually(whole, timeout=15)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert relay.resent == 5


async def test_a_relay_started_after_redis_forgot_appends_the_lost_rows_again(
    aof_redis: RedisServer, client: aioredis.Redis, db: Database
) -> None:
    """The service was down too (e.g. the whole host crashed): its next run repairs."""
    first = OutboxRelay(db, RedisStreamWriter(client))
    await _enqueue(db, range(4))
    await first.relay_once()
    mark = aof_redis.aof_mark()
    await _enqueue(db, range(4, 9))
    await first.relay_once()
    await _forget_since(aof_redis, mark, client)

    restarted = OutboxRelay(db, RedisStreamWriter(client))
    assert await restarted.check() == 5
    assert await _subjects(client) == _expected(9)
    assert await restarted.check() == 0  # the watermark is whole again


async def test_a_wiped_redis_gets_back_only_the_rows_sent_within_the_repair_window(
    client: aioredis.Redis, db: Database
) -> None:
    """Redis restarted empty (no append-only file): the relay appends again what was sent
    within `repair_window` of its newest row, not the whole outbox."""
    relay = OutboxRelay(db, RedisStreamWriter(client), repair_window=60.0)
    await _enqueue(db, range(6))
    await relay.relay_once()
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    async with db.transaction() as conn:  # the first three went out two hours ago
        await conn.execute("UPDATE outbox SET sent_at = ? WHERE seq <= 3", (old,))
    await client.flushall()

    assert await relay.check() == 3
    assert await _subjects(client) == ["s3", "s4", "s5"]
    assert await relay.check() == 0


async def test_the_same_rows_sent_twice_after_a_crash_still_land_once(
    aof_redis: RedisServer, client: aioredis.Redis, db: Database
) -> None:
    """A relay killed before marking sends its rows again on restart; when Redis has lost
    some of them meanwhile, those are appended again and the others are not doubled."""
    relay = OutboxRelay(db, RedisStreamWriter(client))
    await _enqueue(db, range(3))
    await relay.relay_once()
    mark = aof_redis.aof_mark()
    await _enqueue(db, range(3, 6))
    await relay.append_once()  # appended, never marked: the relay dies here
    await _forget_since(aof_redis, mark, client)

    restarted = OutboxRelay(db, RedisStreamWriter(client))
    while await restarted.relay_once():
        pass
    assert await _subjects(client) == _expected(6)


# --- the whole pipeline: consumers that handled what Redis then forgot -------------------


def _story(n: int) -> dict[str, Any]:
    seed = load_fixture("article.json")
    return {
        **seed,
        "uri": f"urn:test:forget:{n}",
        "version": 1,
        "headlines": [{"role": "main", "value": f"Story {n} that Redis forgot, or not"}],
    }


def _published(redis_url: str) -> list[tuple[str, str]]:
    """(event id, subject) of every entry on articles.published, in stream order."""
    client = sync_redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return [(f["id"], f["subject"]) for _, f in client.xrange(names.ARTICLES_PUBLISHED)]
    finally:
        client.close()


def _settled(redis_url: str) -> bool:
    """Every group of every stream has read everything and has nothing pending."""
    client = sync_redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        for stream in (names.ARTICLES_INGESTED, names.ARTICLES_ENRICHED, names.ARTICLES_PUBLISHED):
            last = client.xrevrange(stream, count=1)
            for group in client.xinfo_groups(stream) if last else []:
                if int(group["pending"]) or group["last-delivered-id"] != last[0][0]:
                    return False
        return True
    finally:
        client.close()


def _url(pipeline: Pipeline, service: str) -> str:
    return f"http://127.0.0.1:{next(p.port for p in pipeline.procs if p.name == service)}"


def _wait(probe: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"not before the deadline: {what}")
        time.sleep(0.2)


@pytest.mark.e2e
def test_stories_redis_forgot_reach_the_stream_and_the_subscriber_once(
    aof_redis: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty stories go all the way (ingest, enrichment, publish, a webhook delivered),
    then Redis forgets everything about the last ten: their entries on every stream, the
    groups' reads and acks, the guard keys. Every service's database still has them. Each
    story must be on articles.published once again, and the subscriber must not get any
    of them twice."""
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("GALLEY_CLAIM_IDLE_MS", "1000")  # reads Redis forgot the acks of: soon back
    with Receiver() as receiver, private_pipeline(aof_redis, tmp_path) as pipeline:
        ingest, hooks = _url(pipeline, "ingest"), _url(pipeline, "webhooks")
        created = httpx.post(f"{hooks}/v1/subscriptions", json={"url": receiver.url}, timeout=5)
        assert created.status_code == 201, created.text

        def post(numbers: range) -> None:
            for n in numbers:
                resp = httpx.post(f"{ingest}/v1/articles", json=_story(n), timeout=10)
                assert resp.status_code == 202, resp.text

        def through(count: int) -> bool:
            return (
                len(_published(aof_redis.url)) == count
                and len(receiver.received) == count
                and _settled(aof_redis.url)
            )

        post(range(10))
        _wait(lambda: through(10), "the first ten published and delivered")
        mark = aof_redis.aof_mark()
        post(range(10, 20))
        _wait(lambda: through(20), "the second ten published and delivered")

        aof_redis.forget_since(mark)
        assert len(_published(aof_redis.url)) == 10  # Redis forgot the second ten

        _wait(lambda: len(_published(aof_redis.url)) >= 20, "the lost ten published again")
        _wait(lambda: _settled(aof_redis.url), "every group caught up again")
        time.sleep(3)  # a delivery sent twice would arrive by now (claim idle is 1 s)

        events = _published(aof_redis.url)
        delivered = [json.loads(body)["id"] for body in receiver.received]
    assert sorted(subject for _, subject in events) == sorted(
        f"urn:test:forget:{n}" for n in range(20)
    )
    assert len({event_id for event_id, _ in events}) == 20
    assert sorted(delivered) == sorted(event_id for event_id, _ in events)
