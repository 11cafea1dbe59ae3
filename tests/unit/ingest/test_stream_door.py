"""The input-stream door on FastStream's in-memory broker with a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from faststream.redis import TestRedisBroker

from services.ingest.handlers import StreamDoor
from services.ingest.store import IngestStore
from shared import names
from shared.infra.consumer import Route, StreamConsumer, Unprocessable, new_broker, routes_for
from tests.deadletters import RecordedDeadLetters
from tests.unit.ingest.conftest import Clock, queued


def submission(data: Any, kind: str = names.ARTICLE_SUBMITTED) -> dict[str, str]:
    return {
        "type": kind,
        "source": "superdesk",
        "data": data if isinstance(data, str) else json.dumps(data),
    }


async def run(store: IngestStore, clock: Clock, *entries: dict[str, str]) -> RecordedDeadLetters:
    broker = new_broker("redis://127.0.0.1:6379/0")
    dlq = RecordedDeadLetters()
    door = StreamDoor(lambda: store, lambda: dlq, clock)
    StreamConsumer(
        broker=broker,
        stream=names.NEWSROOM_SUBMISSIONS,
        group=names.INGEST_GROUP,
        consumer="unit",
        routes=routes_for(
            names.INGEST_GROUP,
            names.NEWSROOM_SUBMISSIONS,
            {names.ARTICLE_SUBMITTED: door.on_article, names.AUTHOR_SUBMITTED: door.on_author},
        ),
        dead_letters=lambda: dlq,
        db=lambda: store.db,
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


async def test_an_unknown_type_is_parked_and_rejected_not_acknowledged_in_silence(
    store: IngestStore, clock: Clock, seed_article: dict
) -> None:
    dlq = await run(store, clock, submission(seed_article, kind="article.submited"))
    [(fields, reason)] = dlq.parked
    assert fields["type"] == "article.submited"
    assert reason.startswith("unknown-type: 'article.submited' is not an event type of")
    [rejection] = [e["data"] for e in await queued(store, names.ARTICLES_REJECTED)]
    assert (rejection["problem"], rejection["uri"]) == ("unknown-type", seed_article["uri"])
    assert await queued(store, names.ARTICLES_INGESTED) == []


async def test_a_specversion_other_than_1_is_parked_as_unsupported(
    store: IngestStore, clock: Clock, seed_article: dict
) -> None:
    entries = [
        {**submission(seed_article), "specversion": version} for version in ("9.9", "2.0", "")
    ]
    dlq = await run(store, clock, *entries)
    assert [reason.split(":")[0] for _f, reason in dlq.parked] == ["unsupported"] * 3
    assert "galley reads CloudEvents 1.0" in dlq.parked[0][1]
    rejections = [e["data"]["problem"] for e in await queued(store, names.ARTICLES_REJECTED)]
    assert rejections == ["unsupported"] * 3


def _no_database() -> Any:
    raise AssertionError("not used")


async def _handled_by(failure: Exception) -> tuple[bool, RecordedDeadLetters]:
    """Run one good entry through a consumer whose handler raises `failure`."""
    dlq = RecordedDeadLetters()

    async def handle(event: Any) -> None:
        raise failure

    consumer = StreamConsumer(
        broker=new_broker("redis://127.0.0.1:6379/0"),
        stream=names.NEWSROOM_SUBMISSIONS,
        group=names.INGEST_GROUP,
        consumer="unit",
        routes={names.ARTICLE_SUBMITTED: Route(dict, handle)},  # type: ignore[arg-type]
        dead_letters=lambda: dlq,
        db=_no_database,  # _handle alone: the batch around it is not run here
    )
    done = await consumer._handle(submission({"uri": "urn:x"}), "1-0")
    return done, dlq


async def test_a_failure_that_depends_only_on_the_entry_is_parked_at_once() -> None:
    for failure in (
        Unprocessable("no page can show this"),
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
        OverflowError("Python int too large to convert to SQLite INTEGER"),
    ):
        done, dlq = await _handled_by(failure)
        assert done, failure
        [(_fields, reason)] = dlq.parked
        assert reason.startswith(f"unprocessable: {type(failure).__name__}: ")


async def test_a_failure_that_may_pass_later_is_left_pending_for_the_claimer() -> None:
    for failure in (sqlite3.OperationalError("database is locked"), ConnectionError("down")):
        done, dlq = await _handled_by(failure)
        assert (done, dlq.parked) == (False, [])
