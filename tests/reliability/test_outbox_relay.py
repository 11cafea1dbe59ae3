"""The relay killed between XADD and marking rows sent: the rows go again after the
restart, and the stream still holds each event once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from shared.envelope import Envelope
from shared.infra.db import Database
from shared.infra.outbox import (
    OUTBOX_SCHEMA,
    Chain,
    OutboxRelay,
    RedisStreamWriter,
    enqueue,
)
from tests.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

STREAM = "t.relay.dedup"


def _event(n: int) -> Envelope[dict[str, Any]]:
    return Envelope[dict[str, Any]](
        source="/galley/test", type="test.happened", subject=f"s{n}", data={"n": n}
    )


async def test_rows_sent_again_after_a_crash_before_marking_them_are_appended_only_once(
    redis: Any,
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "outbox.db", schema=[OUTBOX_SCHEMA])
    try:
        async with db.transaction() as conn:
            for n in range(3):
                await enqueue(conn, _event(n), STREAM)
        relay = OutboxRelay(db, RedisStreamWriter(redis))
        assert await relay.relay_once() == 3
        first = [i for i, _ in await redis.xrange(STREAM)]
        # The crash: Redis has the entries, SQLite never recorded them as sent.
        async with db.transaction() as conn:
            await conn.execute("UPDATE outbox SET sent_at = NULL, entry_id = NULL")
        restarted = OutboxRelay(db, RedisStreamWriter(redis))
        assert await restarted.relay_once() == 3
        assert await restarted.pending() == 0
        rows = await db.fetchall("SELECT entry_id FROM outbox ORDER BY seq")
    finally:
        await db.close()
    assert [i for i, _ in await redis.xrange(STREAM)] == first
    assert [r["entry_id"] for r in rows] == [i.decode() for i in first]


async def test_the_same_event_id_on_two_streams_is_appended_to_both(redis: Any) -> None:
    writer = RedisStreamWriter(redis)
    fields = _event(1).to_fields()
    await writer.append_many([(STREAM, fields), (STREAM + ".other", fields)])
    assert await redis.xlen(STREAM) == 1
    assert await redis.xlen(STREAM + ".other") == 1


async def test_the_writer_loads_its_script_when_redis_has_forgotten_it(redis: Any) -> None:
    """A restarted Redis has an empty script cache: NOSCRIPT, load, send again, once."""
    writer = RedisStreamWriter(redis)
    await redis.script_flush()  # the private test server, as after a restart
    fields = _event(7).to_fields()
    first = await writer.append_many([(STREAM, fields)])
    await redis.script_flush()
    again = await writer.append_many([(STREAM, fields), (STREAM, _event(8).to_fields())])
    assert again[0] == first[0]  # the guard answered with the entry already there
    assert await redis.xlen(STREAM) == 2


class _CountingWriter(RedisStreamWriter):
    """The real writer, counting the entries it is asked to append."""

    def __init__(self, redis: Any) -> None:
        super().__init__(redis)
        self.appended = 0

    async def append_many(
        self, entries: list[tuple[str, dict[str, str]]], chain: Chain | None = None
    ) -> list[str]:
        self.appended += len(entries)
        return await super().append_many(entries, chain)


async def _enqueue(db: Database, numbers: range) -> None:
    async with db.transaction() as conn:
        for n in numbers:
            await enqueue(conn, _event(n), STREAM)


async def _marked(db: Database) -> list[str | None]:
    return [r["entry_id"] for r in await db.fetchall("SELECT entry_id FROM outbox ORDER BY seq")]


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "outbox.db", schema=[OUTBOX_SCHEMA])
    yield database
    await database.close()


@asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[None]:
    """`relay.run()` in a task, stopped on exit (cancelled and awaited: it marks at stop)."""
    task = asyncio.create_task(relay.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_running_relay_appends_at_once_and_marks_in_bulk_later(
    redis: Any,
    db: Database,
) -> None:
    """Appending does not wait for marking; rows appended but not marked yet are not
    appended again; stopping the relay marks them, with the entry ids Redis gave."""
    writer = _CountingWriter(redis)
    relay = OutboxRelay(db, writer, idle_wait=60.0, mark_every=60.0)
    async with running(relay):
        await _enqueue(db, range(3))
        relay.notify()
        await eventually(lambda: _xlen_is(redis, 3))
        await _enqueue(db, range(3, 5))
        relay.notify()
        await eventually(lambda: _xlen_is(redis, 5))
        assert await _marked(db) == [None] * 5  # in Redis, not yet recorded as sent
        assert await relay.pending() == 0  # nothing is waiting to be appended
        assert writer.appended == 5  # the first three were not appended a second time
    assert await _marked(db) == [i.decode() for i, _ in await redis.xrange(STREAM)]


async def test_the_relay_marks_what_it_appended_once_it_goes_idle(
    redis: Any,
    db: Database,
) -> None:
    relay = OutboxRelay(db, RedisStreamWriter(redis), idle_wait=0.05, mark_every=60.0)

    async def all_marked() -> bool:
        return None not in await _marked(db)

    async with running(relay):
        await _enqueue(db, range(2))
        relay.notify()
        await eventually(all_marked)
        marked = await _marked(db)
    assert marked == [i.decode() for i, _ in await redis.xrange(STREAM)]


async def test_a_busy_relay_marks_rows_once_they_are_mark_every_old(
    redis: Any,
    db: Database,
) -> None:
    """Never idle (a commit every few ms), the relay still marks within `mark_every`."""
    relay = OutboxRelay(db, RedisStreamWriter(redis), idle_wait=60.0, mark_every=0.2)
    first_marked = False
    async with running(relay):
        await _enqueue(db, range(1))
        relay.notify()
        for n in range(1, 200):  # keep it busy for up to ~2 s
            await _enqueue(db, range(n, n + 1))
            relay.notify()
            await asyncio.sleep(0.01)
            if (await _marked(db))[0] is not None:
                first_marked = True
                break
    assert first_marked


async def _xlen_is(redis: Any, n: int) -> bool:
    return bool(await redis.xlen(STREAM) == n)
