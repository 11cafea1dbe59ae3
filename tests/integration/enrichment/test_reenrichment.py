"""Enrichment against a real Redis and a real SQLite file: the service as it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from services.enrichment.app import create_app
from services.enrichment.settings import Settings
from shared import names
from shared.envelope import from_fields
from shared.models import EnrichedArticle
from tests.serving import serving
from tests.unit.enrichment.factories import article_from_ninjs, author_updated, ingested

pytestmark = pytest.mark.integration

NOW = datetime(2025, 3, 1, tzinfo=UTC)


@asynccontextmanager
async def running(redis_server: Any, data_dir: Path) -> AsyncIterator[FastAPI]:
    app = create_app(Settings(redis_url=redis_server.url, data_dir=data_dir), now=lambda: NOW)
    async with serving(app):
        yield app


async def enriched(redis: Any, count: int, timeout: float = 10.0) -> list[EnrichedArticle]:
    """The first `count` entries of articles.enriched, waiting for them to arrive."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        entries = await redis.xrange(names.ARTICLES_ENRICHED)
        if len(entries) >= count:
            return [EnrichedArticle.model_validate(from_fields(f).data) for _id, f in entries]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{len(entries)} enriched events, expected {count}")
        await asyncio.sleep(0.05)


async def post_article(redis: Any, ninjs: dict[str, Any], **overrides: Any) -> None:
    event = ingested(article_from_ninjs(ninjs, **overrides))
    await redis.xadd(names.ARTICLES_INGESTED, event.to_fields())


async def test_an_author_update_republishes_their_articles_once_with_the_new_bio(
    redis_server: Any,
    redis: Any,
    tmp_path: Path,
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
    seed_article: dict[str, Any],
) -> None:
    async with running(redis_server, tmp_path):
        first = author_updated(seed_author)
        await redis.xadd(names.AUTHORS_UPDATED, first.to_fields())
        await post_article(redis, seed_related)
        await post_article(redis, seed_article)
        await enriched(redis, 2)

        await redis.xadd(
            names.AUTHORS_UPDATED, author_updated({**seed_author, "bio": "A new bio."}).to_fields()
        )
        changed = (await enriched(redis, 4))[2:]
        # Replays: the very same event, and identical content under a new id.
        await redis.xadd(names.AUTHORS_UPDATED, first.to_fields())
        await redis.xadd(
            names.AUTHORS_UPDATED, author_updated({**seed_author, "bio": "A new bio."}).to_fields()
        )
        # A sentinel processed after the replays, on the same stream.
        await post_article(
            redis, seed_related, uri="urn:t:sentinel", byline="By Ann Lee", author_names=[]
        )
        await redis.xadd(
            names.AUTHORS_UPDATED,
            author_updated({"name": "Ann Lee", "slug": "ann-lee"}).to_fields(),
        )
        everything = await enriched(redis, 6)

    assert sorted(e.uri for e in changed) == sorted([seed_related["uri"], seed_article["uri"]])
    assert all((e.version, e.enrichment_revision) == (1, 1) for e in changed)
    assert all(e.authors[0].bio == "A new bio." for e in changed), [
        (e.uri, e.version, e.enrichment_revision, [a.bio for a in e.authors]) for e in everything
    ]
    assert [e.uri for e in everything[4:]] == ["urn:t:sentinel", "urn:t:sentinel"]
    assert everything[5].authors[0].url == "/authors/ann-lee"


async def test_a_kill_removes_the_dead_link_and_the_index_survives_a_restart(
    redis_server: Any,
    redis: Any,
    tmp_path: Path,
    seed_related: dict[str, Any],
    seed_budget: dict[str, Any],
    seed_article: dict[str, Any],
) -> None:
    async with running(redis_server, tmp_path):
        await post_article(redis, seed_related)
        await post_article(redis, seed_budget)
        await post_article(redis, seed_article)
        linked = (await enriched(redis, 3))[2]
        await post_article(redis, seed_related, version=2, lifecycle="killed", pubstatus="canceled")
        killed, relinked = (await enriched(redis, 5))[3:]

    assert linked.related[0].uri == seed_related["uri"]
    assert (killed.uri, killed.lifecycle, killed.version) == (seed_related["uri"], "killed", 2)
    assert relinked.uri == seed_article["uri"]
    assert (relinked.version, relinked.enrichment_revision) == (1, 1)
    assert seed_related["uri"] not in {link.uri for link in relinked.related}

    async with running(redis_server, tmp_path) as app:  # rebuilt from SQLite
        found = await app.state.service.related(seed_article["uri"], 5)
        assert found is not None
        assert seed_related["uri"] not in {r["uri"] for r in found["related"]}
        await post_article(redis, seed_article, uri="urn:t:follow-up", version=1)
        follow_up = (await enriched(redis, 6))[5]
    assert follow_up.related[0].uri == seed_article["uri"]
