"""The `newsroom.submissions` door against a real Redis: good entries flow past bad ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.ingest.settings import Settings
from shared import names
from shared.envelope import from_fields
from shared.models import Article, AuthorProfile, Rejection
from tests.integration.ingest.helpers import KEY, running, wait_for

pytestmark = pytest.mark.integration

STREAM = names.NEWSROOM_SUBMISSIONS
DLQ = names.dead_letter_stream(names.INGEST)


def entry(kind: str, data: Any, source: str = "superdesk") -> dict[str, str]:
    payload = data if isinstance(data, str) else json.dumps(data)
    return {"type": kind, "source": source, "data": payload}


async def events(redis: Any, stream: str) -> list[Any]:
    return [from_fields(fields) for _id, fields in await redis.xrange(stream)]


async def test_a_poison_entry_between_good_ones_is_parked_and_rejected_and_the_rest_flow(
    redis_server: Any,
    redis: Any,
    tmp_path: Path,
    seed_article: dict,
    seed_related: dict,
    seed_author: dict,
) -> None:
    conflicting = {**seed_article, "headlines": [{"role": "main", "value": "Different"}]}
    entries = [
        entry(names.ARTICLE_SUBMITTED, seed_article),
        entry(names.ARTICLE_SUBMITTED, "{not json"),  # undecodable
        entry(names.ARTICLE_SUBMITTED, {"uri": "urn:bad", "version": True}, source="arc"),
        entry(names.ARTICLE_SUBMITTED, conflicting),  # same version, other content
        entry(names.ARTICLE_SUBMITTED, '{"a":' + "[" * 100_000 + "]" * 100_000 + "}"),
        entry("author", seed_author),
        entry("article", seed_related, source="arc"),
    ]
    ids = [(await redis.xadd(STREAM, e)).decode() for e in entries]
    settings = Settings(data_dir=tmp_path, redis_url=redis_server.url, api_keys="sd:it-key")

    async with running(settings):

        async def settled() -> bool:
            counts = [
                await redis.xlen(s)
                for s in (
                    names.ARTICLES_INGESTED,
                    names.AUTHORS_UPDATED,
                    names.ARTICLES_REJECTED,
                    DLQ,
                )
            ]
            return counts == [2, 1, 4, 4]

        await wait_for(settled)

    articles = [
        Article.model_validate(e.data) for e in await events(redis, names.ARTICLES_INGESTED)
    ]
    assert [(a.uri, a.source) for a in articles] == [
        (seed_article["uri"], "superdesk"),
        (seed_related["uri"], "arc"),
    ]
    [author] = await events(redis, names.AUTHORS_UPDATED)
    assert AuthorProfile.model_validate(author.data).slug == "martin-fornusek"

    parked = await redis.xrange(DLQ)
    assert [f[b"dlq.entry_id"].decode() for _id, f in parked] == ids[1:5]
    reasons = [f[b"dlq.reason"].decode() for _id, f in parked]
    assert reasons[0].startswith("undecodable")
    assert reasons[1].startswith("invalid-document: /version")
    assert reasons[2].startswith("conflict")
    assert reasons[3] == "undecodable: 'data' is nested too deeply"

    rejections = [
        Rejection.model_validate(e.data) for e in await events(redis, names.ARTICLES_REJECTED)
    ]
    assert [r.entry_id for r in rejections] == ids[1:5]
    assert rejections[1].errors[0]["pointer"] == "/version"
    assert (rejections[1].uri, rejections[1].source) == ("urn:bad", "arc")
    assert rejections[2].uri == seed_article["uri"]

    pending = await redis.xpending(STREAM, names.INGEST_GROUP)
    assert pending["pending"] == 0


async def test_both_doors_end_in_the_same_article(
    redis_server: Any, redis: Any, tmp_path: Path, seed_article: dict
) -> None:
    by_stream = {**seed_article, "uri": "urn:door:stream"}
    settings = Settings(data_dir=tmp_path, redis_url=redis_server.url, api_keys="sd:it-key")
    async with running(settings) as (_app, client):
        posted = await client.post(
            "/v1/articles", json={**seed_article, "uri": "urn:door:http"}, headers=KEY
        )
        assert posted.status_code == 202
        await redis.xadd(STREAM, entry(names.ARTICLE_SUBMITTED, by_stream, source="sd"))

        async def both() -> bool:
            return bool(await redis.xlen(names.ARTICLES_INGESTED) == 2)

        await wait_for(both)

    http, stream = [
        Article.model_validate(e.data) for e in await events(redis, names.ARTICLES_INGESTED)
    ]
    skip = {"uri", "slug", "ninjs", "accepted_at"}
    assert http.model_dump(exclude=skip) == stream.model_dump(exclude=skip)
    assert stream.slug == f"{http.slug}-2"
