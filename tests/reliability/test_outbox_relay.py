"""The relay killed between XADD and marking rows sent: the rows go again after the
restart, and the stream still holds each event once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.envelope import Envelope
from shared.infra.db import Database
from shared.infra.outbox import OUTBOX_SCHEMA, OutboxRelay, RedisStreamWriter, enqueue

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
                await enqueue(conn, STREAM, _event(n))
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
