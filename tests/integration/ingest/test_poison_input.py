"""Poison on the newsroom input stream (issue 17, cases 4 to 6), against a real Redis: every
entry ingest cannot handle is parked at once in dlq.ingest with the true reason and its
original bytes, answered with an article.rejected, and `galley dlq retry` restores it
exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from galley.cli import main
from services.ingest.settings import Settings
from shared import names
from shared.envelope import from_fields
from shared.models import Rejection
from tests.integration.ingest.helpers import running, wait_for

pytestmark = pytest.mark.integration

STREAM = names.NEWSROOM_SUBMISSIONS
DLQ = names.dead_letter_stream(names.INGEST)


def _settings(redis_server: Any, tmp_path: Path, **changes: Any) -> Settings:
    return Settings(data_dir=tmp_path, redis_url=redis_server.url, api_keys="sd:it-key", **changes)


def _entry(data: str | bytes, kind: str = names.ARTICLE_SUBMITTED, **more: Any) -> dict:
    return {"type": kind, "source": "superdesk", "data": data, **more}


def _story(seed_article: dict, uri: str) -> dict:
    return {**seed_article, "uri": uri}


def _extra(seed_article: dict, uri: str, literal: str) -> str:
    """The story with one more property written as raw JSON text."""
    return json.dumps(_story(seed_article, uri))[:-1] + f', "x-extra": {literal}}}'


async def _parked(redis: Any, n: int) -> list[dict[bytes, bytes]] | None:
    letters = await redis.xrange(DLQ)
    return [fields for _id, fields in letters] if len(letters) >= n else None


async def _settle(redis: Any, *, parked: int, rejected: int, ingested: int = 0) -> None:
    async def settled() -> bool:
        return [
            await redis.xlen(DLQ),
            await redis.xlen(names.ARTICLES_REJECTED),
            await redis.xlen(names.ARTICLES_INGESTED),
        ] == [parked, rejected, ingested]

    await wait_for(settled)
    pending = await redis.xpending(STREAM, names.INGEST_GROUP)
    assert pending["pending"] == 0  # nothing left for the claimer to retry


async def _rejections(redis: Any) -> list[Rejection]:
    return [
        Rejection.model_validate(from_fields(f).data)
        for _id, f in await redis.xrange(names.ARTICLES_REJECTED)
    ]


def _reason(fields: dict[bytes, bytes]) -> str:
    return fields[b"dlq.reason"].decode()


HOSTILE = {
    "a lone surrogate": ('"a\\ud800"', "lone surrogate"),
    "an integer of 5,000 digits": ("9" * 5000, "digits"),
    "a float out of range": ("1e999", "out of range"),
    "NaN": ("NaN", "NaN"),
    "Infinity": ("-Infinity", "Infinity"),
    "a duplicate key": ('{"a": 1, "a": 2}', "duplicate"),
}


async def test_hostile_json_on_the_input_stream_is_parked_at_once_and_rejected(
    redis_server: Any, redis: Any, tmp_path: Path, seed_article: dict
) -> None:
    # The claimer would retry a failing entry only after a minute: parked "at once" means
    # parked by the first reader, long before that.
    good = _story(seed_article, "urn:poison:good")
    ids = []
    for i, (literal, _) in enumerate(HOSTILE.values()):
        data = _extra(seed_article, f"urn:poison:{i}", literal)
        ids.append((await redis.xadd(STREAM, _entry(data))).decode())
    await redis.xadd(STREAM, _entry(json.dumps(good)))
    async with running(_settings(redis_server, tmp_path)):
        await _settle(redis, parked=len(HOSTILE), rejected=len(HOSTILE), ingested=1)

    letters = await _parked(redis, len(HOSTILE))
    assert letters is not None
    for fields, (what, (_, said)) in zip(letters, HOSTILE.items(), strict=True):
        assert _reason(fields).startswith("undecodable: "), what
        assert said in _reason(fields), (what, _reason(fields))
    assert [f[b"dlq.entry_id"].decode() for f in letters] == ids
    rejections = await _rejections(redis)
    assert [r.entry_id for r in rejections] == ids
    assert {r.problem for r in rejections} == {"undecodable-entry"}
    assert all(r.source == "superdesk" for r in rejections)


async def test_an_unknown_type_on_the_input_stream_is_parked_and_rejected_not_dropped(
    redis_server: Any, redis: Any, tmp_path: Path, seed_article: dict
) -> None:
    typo = (await redis.xadd(STREAM, _entry(json.dumps(seed_article), "article.submited"))).decode()
    async with running(_settings(redis_server, tmp_path)):
        await _settle(redis, parked=1, rejected=1)

    [letter] = await _parked(redis, 1) or []
    assert _reason(letter).startswith("unknown-type: 'article.submited'")
    assert "article.submitted" in _reason(letter)  # the reason names what the stream takes
    [rejection] = await _rejections(redis)
    assert (rejection.entry_id, rejection.problem) == (typo, "unknown-type")
    assert rejection.uri == seed_article["uri"]


@pytest.mark.parametrize("specversion", ["9.9", "0.3", "2.0", "1.0; drop table"])
async def test_an_unsupported_specversion_is_parked_as_unsupported(
    specversion: str, redis_server: Any, redis: Any, tmp_path: Path, seed_article: dict
) -> None:
    await redis.xadd(STREAM, _entry(json.dumps(seed_article), specversion=specversion))
    async with running(_settings(redis_server, tmp_path)):
        await _settle(redis, parked=1, rejected=1)

    [letter] = await _parked(redis, 1) or []
    assert _reason(letter).startswith("unsupported: specversion"), _reason(letter)
    [rejection] = await _rejections(redis)
    assert rejection.problem == "unsupported"


@pytest.mark.parametrize("specversion", ["1.0", None])
async def test_cloudevents_1_0_or_no_specversion_is_read(
    specversion: str | None, redis_server: Any, redis: Any, tmp_path: Path, seed_article: dict
) -> None:
    more = {"specversion": specversion} if specversion else {}
    await redis.xadd(STREAM, _entry(json.dumps(seed_article), **more))
    async with running(_settings(redis_server, tmp_path)):
        await _settle(redis, parked=0, rejected=0, ingested=1)


async def test_a_field_that_is_not_utf8_is_parked_with_its_bytes_and_dlq_retry_restores_them(
    redis_server: Any, redis: Any, tmp_path: Path, seed_article: dict
) -> None:
    data = json.dumps(_story(seed_article, "urn:poison:latin1")).encode()
    data = data.replace(b"North Korean", b"Nord-Kor\xe9a")  # Latin-1, not UTF-8
    original = {b"type": b"article.submitted", b"source": b"sd\xff", b"data": data}
    entry_id = (await redis.xadd(STREAM, original)).decode()
    async with running(_settings(redis_server, tmp_path)):
        await _settle(redis, parked=1, rejected=1)

    [letter_id, letter] = (await redis.xrange(DLQ))[0]
    reason = _reason(letter)
    assert reason.startswith("undecodable: "), reason
    assert "not UTF-8" in reason and "'data'" in reason and "'source'" in reason
    assert "no 'data' field" not in reason
    assert letter[b"dlq.entry_id"].decode() == entry_id
    [rejection] = await _rejections(redis)
    assert (rejection.entry_id, rejection.problem) == (entry_id, "undecodable-entry")

    assert main(["dlq", "retry", letter_id.decode(), "--redis-url", redis_server.url]) == 0
    *_, (_new_id, restored) = await redis.xrange(STREAM)
    assert restored == original
    assert await redis.xlen(DLQ) == 0


async def test_an_8_mb_submission_is_refused_and_parked_like_an_8_mb_post(
    redis_server: Any, redis: Any, tmp_path: Path, seed_article: dict
) -> None:
    huge = _story(seed_article, "urn:poison:huge")
    huge["bodies"] = [{"contenttype": "text/plain", "value": "word " * (8 * 1024 * 1024 // 5)}]
    data = json.dumps(huge)
    assert len(data) > 8_000_000
    entry_id = (await redis.xadd(STREAM, _entry(data))).decode()
    await redis.xadd(STREAM, _entry(json.dumps(seed_article)))
    async with running(_settings(redis_server, tmp_path)):
        await _settle(redis, parked=1, rejected=1, ingested=1)

    [letter] = await _parked(redis, 1) or []
    assert _reason(letter).startswith("too-large: "), _reason(letter)
    assert str(2 * 1024 * 1024) in _reason(letter)  # the limit HTTP holds (INGEST_MAX_BODY_BYTES)
    assert letter[b"data"].decode() == data  # kept whole, so it can be retried as it was
    [rejection] = await _rejections(redis)
    assert (rejection.entry_id, rejection.problem) == (entry_id, "too-large")
    assert rejection.uri is None or rejection.uri == "urn:poison:huge"


async def test_the_input_stream_holds_the_configured_body_limit(
    redis_server: Any, redis: Any, tmp_path: Path, seed_article: dict
) -> None:
    data = json.dumps(seed_article)
    await redis.xadd(STREAM, _entry(data))
    settings = _settings(redis_server, tmp_path, max_body_bytes=len(data.encode()) - 1)
    async with running(settings):
        await _settle(redis, parked=1, rejected=1)
