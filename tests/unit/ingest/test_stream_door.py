"""The input-stream door on FastStream's in-memory broker with a real SQLite store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from faststream.redis import RedisBroker, TestRedisBroker

from services.ingest.handlers import StreamDoor
from services.ingest.store import IngestStore
from shared import names
from shared.infra.consumer import StreamConsumer
from tests.unit.ingest.conftest import Clock, queued


class ListDeadLetters:
    """A fake dead-letter port: remembers what was parked."""

    def __init__(self) -> None:
        self.parked: list[tuple[dict[str, str], str]] = []

    async def park(
        self,
        fields: Mapping[str, str],
        *,
        reason: str,
        entry_id: str | None,
        stream: str,
        group: str,
    ) -> None:
        self.parked.append((dict(fields), reason))


def submission(data: Any, kind: str = names.ARTICLE_SUBMITTED) -> dict[str, str]:
    return {
        "type": kind,
        "source": "superdesk",
        "data": data if isinstance(data, str) else json.dumps(data),
    }


async def run(store: IngestStore, clock: Clock, *entries: dict[str, str]) -> ListDeadLetters:
    broker = RedisBroker()
    dlq = ListDeadLetters()
    door = StreamDoor(lambda: store, broker, lambda: dlq, clock)
    StreamConsumer(
        broker=broker,
        stream=names.NEWSROOM_SUBMISSIONS,
        group=names.INGEST_GROUP,
        consumer="unit",
        routes=door.routes(),
        dead_letters=lambda: dlq,
        on_parked=door.on_parked,
    ).register()
    async with TestRedisBroker(broker) as br:
        for fields in entries:
            await br.publish(fields, stream=names.NEWSROOM_SUBMISSIONS)
    return dlq


async def test_a_submitted_article_is_ingested_with_the_entry_source(
    store: IngestStore, clock: Clock, seed_article: dict
) -> None:
    dlq = await run(store, clock, submission(seed_article))
    [event] = await queued(store)
    assert (event["type"], event["data"]["source"]) == (names.ARTICLE_INGESTED, "superdesk")
    assert dlq.parked == []


async def test_an_invalid_submission_is_parked_and_rejected_with_pointers(
    store: IngestStore, clock: Clock, seed_article: dict
) -> None:
    seed_article["version"] = True
    dlq = await run(store, clock, submission(seed_article), submission("{broken"))
    assert [reason.split(":")[0] for _f, reason in dlq.parked] == [
        "invalid-document",
        "undecodable",
    ]
    rejections = [e["data"] for e in await queued(store, names.ARTICLES_REJECTED)]
    assert rejections[0]["errors"] == [
        {"pointer": "/version", "detail": 'version must be a string such as "3"'}
    ]
    assert rejections[0]["uri"] == seed_article["uri"]
    assert (rejections[0]["door"], rejections[0]["problem"]) == ("stream", "invalid-document")
    assert rejections[1]["reason"].startswith("undecodable")
    assert await queued(store, names.ARTICLES_INGESTED) == []


async def test_an_author_may_be_submitted_with_a_bare_type(
    store: IngestStore, clock: Clock, seed_author: dict
) -> None:
    await run(store, clock, submission(seed_author, kind="author"))
    [event] = await queued(store)
    assert (event["type"], event["subject"]) == (names.AUTHOR_UPDATED, "martin-fornusek")
