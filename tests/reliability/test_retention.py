"""Retention (issue 17, case 10): sent outbox rows, processed event ids, articles.published,
articles.rejected and the dead-letter streams are pruned after their windows; nothing a
consumer or the outbox may still need goes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import ValidationError

from services.enrichment.settings import Settings as EnrichmentSettings
from shared import names
from shared.envelope import Envelope
from shared.infra.consumer import PROCESSED_SCHEMA, prune_processed
from shared.infra.db import Database
from shared.infra.outbox import (
    OUTBOX_SCHEMA,
    OutboxRelay,
    RedisStreamWriter,
    enqueue,
    prune_outbox,
)
from shared.infra.retention import RetentionSettings, tidy

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(
        tmp_path / "service.db", schema=[OUTBOX_SCHEMA, PROCESSED_SCHEMA]
    )
    yield database
    await database.close()


def _event(n: int) -> Envelope[dict[str, Any]]:
    return Envelope[dict[str, Any]](
        source="/galley/test", type="test.happened", subject=f"s{n}", data={"n": n}
    )


async def _outbox(db: Database, sent: list[datetime | None]) -> None:
    """One row per item: sent at that moment, or not sent (None)."""
    async with db.transaction() as conn:
        for n, at in enumerate(sent):
            await enqueue(conn, _event(n), "t.retention")
            if at is not None:
                await conn.execute(
                    "UPDATE outbox SET sent_at = ?, entry_id = ? WHERE seq = ?",
                    (at.isoformat(), f"{n}-0", n + 1),
                )


async def _seqs(db: Database) -> list[int]:
    return [r["seq"] for r in await db.fetchall("SELECT seq FROM outbox ORDER BY seq")]


async def test_sent_outbox_rows_go_after_the_window_and_an_unsent_row_never(
    db: Database,
) -> None:
    old, young = NOW - 8 * DAY, NOW - DAY
    await _outbox(db, [old, old, None, old, young, None])

    assert await prune_outbox(db, NOW - 7 * DAY) == 3

    assert await _seqs(db) == [3, 5, 6]  # the unsent rows (one of them old) and the young one


async def test_outbox_pruning_walks_every_chunk_and_stops_at_the_first_young_row(
    db: Database,
) -> None:
    old, young = NOW - 30 * DAY, NOW - DAY
    await _outbox(db, [old] * 7 + [young] + [old])  # a row re-sent late keeps a young stamp

    assert await prune_outbox(db, NOW - 7 * DAY, chunk=2) == 7

    assert await _seqs(db) == [8, 9]  # the walk stops at the young row; the next round goes on


async def test_a_relay_started_on_a_pruned_outbox_goes_on_where_it_left_off(
    db: Database, redis: Any
) -> None:
    await _outbox(db, [NOW - 30 * DAY] * 3)
    await prune_outbox(db, NOW - 7 * DAY)
    async with db.transaction() as conn:
        await enqueue(conn, _event(9), "t.retention")

    relay = OutboxRelay(db, RedisStreamWriter(redis))
    assert await relay.relay_once() == 1
    assert await relay.check() == 0  # nothing looks forgotten
    assert [f[b"subject"] for _, f in await redis.xrange("t.retention")] == [b"s9"]


async def test_processed_event_ids_are_forgotten_after_the_window(db: Database) -> None:
    stamps = [NOW - 9 * DAY, NOW - 8 * DAY, NOW - 6 * DAY, NOW]
    async with db.transaction() as conn:
        for n, at in enumerate(stamps):
            await conn.execute(
                "INSERT INTO processed_events(event_id, processed_at) VALUES (?, ?)",
                (f"event-{n}", at.isoformat()),
            )

    assert await prune_processed(db, NOW - 7 * DAY) == 2

    rows = await db.fetchall("SELECT event_id FROM processed_events ORDER BY rowid")
    assert [r["event_id"] for r in rows] == ["event-2", "event-3"]


async def _aged(redis: Any, stream: str, days_ago: list[float]) -> list[bytes]:
    now = int(time.time() * 1000)
    return [
        await redis.xadd(stream, {"n": str(i)}, id=f"{now - int(d * 86_400_000)}-{i}")
        for i, d in enumerate(days_ago)
    ]


async def test_a_round_of_publish_prunes_its_tables_and_trims_its_streams(
    db: Database, redis: Any
) -> None:
    now = datetime.now(UTC)
    await _outbox(db, [now - 8 * DAY, now - DAY])
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO processed_events(event_id, processed_at) VALUES ('e', ?)",
            ((now - 8 * DAY).isoformat(),),
        )
    published = await _aged(redis, names.ARTICLES_PUBLISHED, [31, 31, 29, 0])
    await redis.xgroup_create(names.ARTICLES_PUBLISHED, names.WEBHOOKS_GROUP, id="0")
    got = await redis.xreadgroup(names.WEBHOOKS_GROUP, "w", {names.ARTICLES_PUBLISHED: ">"})
    await redis.xack(names.ARTICLES_PUBLISHED, names.WEBHOOKS_GROUP, got[0][1][0][0])
    parked = await _aged(redis, names.dead_letter_stream(names.PUBLISH), [31, 1])
    rejected = await _aged(redis, names.ARTICLES_REJECTED, [8])  # ingest's, not publish's

    gone = await tidy(names.PUBLISH, db, redis, RetentionSettings(), now=now)

    assert gone == {
        "outbox": 1,
        "processed_events": 1,
        names.dead_letter_stream(names.PUBLISH): 1,
        names.ARTICLES_PUBLISHED: 1,  # the second old one is still pending for webhooks
    }
    assert [i for i, _ in await redis.xrange(names.ARTICLES_PUBLISHED)] == published[1:]
    assert [i for i, _ in await redis.xrange(names.dead_letter_stream(names.PUBLISH))] == [
        parked[1]
    ]
    assert [i for i, _ in await redis.xrange(names.ARTICLES_REJECTED)] == rejected


async def test_ingest_trims_the_rejections_nobody_reads_by_age(db: Database, redis: Any) -> None:
    rejected = await _aged(redis, names.ARTICLES_REJECTED, [8, 6])
    gone = await tidy(names.INGEST, db, redis, RetentionSettings(rejected_retention_s=7 * 86400))
    assert gone[names.ARTICLES_REJECTED] == 1
    assert [i for i, _ in await redis.xrange(names.ARTICLES_REJECTED)] == rejected[1:]


def test_windows_shorter_than_a_redelivery_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GALLEY_CLAIM_IDLE_MS", raising=False)
    monkeypatch.delenv("GALLEY_MAX_DELIVERIES", raising=False)
    with pytest.raises(ValidationError, match="OUTBOX_RETENTION"):
        RetentionSettings(outbox_retention_s=30, outbox_repair_window_s=60)
    with pytest.raises(ValidationError, match="PROCESSED_RETENTION"):
        RetentionSettings(processed_retention_s=3600)  # the guard keys live a day
    # a service's redeliveries: GALLEY_CLAIM_IDLE_MS x GALLEY_MAX_DELIVERIES (or its own)
    monkeypatch.setenv("GALLEY_CLAIM_IDLE_MS", str(10 * 3600_000))  # 5 deliveries: 50 h
    monkeypatch.setenv("GALLEY_PROCESSED_RETENTION_S", str(2 * 86400))
    with pytest.raises(ValidationError, match="PROCESSED_RETENTION"):
        EnrichmentSettings()
    monkeypatch.setenv("ENRICHMENT_MAX_DELIVERIES", "3")  # 30 h
    assert EnrichmentSettings().retention.processed_retention_s == 2 * 86400
    monkeypatch.delenv("GALLEY_PROCESSED_RETENTION_S")
    monkeypatch.setenv("GALLEY_OUTBOX_RETENTION_S", "1209600")
    assert RetentionSettings().outbox_retention_s == 14 * 86400
