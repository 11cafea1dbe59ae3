"""The publish service against a real Redis and a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.publish.app import create_app
from services.publish.settings import Settings
from shared import names
from shared.models import PublishedArticle
from tests.polling import eventually
from tests.serving import serving
from tests.unit.publish.factories import Clock, enriched_event, seed_story, simple_story

pytestmark = pytest.mark.integration


@asynccontextmanager
async def running(
    redis_url: str,
    data_dir: Path,
    now: Callable[[], datetime],
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(redis_url=redis_url, data_dir=data_dir), now=now)
    async with serving(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def published(redis: Any) -> list[tuple[str, PublishedArticle]]:
    """articles.published as any plain Redis client reads it."""
    entries = await redis.xrange(names.ARTICLES_PUBLISHED)
    return [
        (f[b"type"].decode(), PublishedArticle.model_validate(json.loads(f[b"data"])))
        for _id, f in entries
    ]


async def status(client: httpx.AsyncClient, path: str) -> int:
    return (await client.get(path)).status_code


async def test_the_seed_article_flows_from_the_stream_to_the_page_and_to_articles_published(
    redis_server: Any,
    redis: Any,
    tmp_path: Path,
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
) -> None:
    article = seed_story(seed_article, seed_author, seed_related)
    # Written before the service starts: the group starts at 0, nothing is skipped.
    await redis.xadd(names.ARTICLES_ENRICHED, enriched_event(article).to_fields())

    async with running(redis_server.url, tmp_path, lambda: datetime.now(UTC)) as client:
        path = f"/articles/{article.slug}"
        await eventually(lambda: _is(client, path, 200))
        assert "2 min read" in (await client.get(path)).text
        await eventually(lambda: _count(redis, 1))

    [(event_type, payload)] = await published(redis)
    assert event_type == names.ARTICLE_PUBLISHED
    assert payload.url == path and payload.uri == article.uri
    assert payload.authors[0].bio == seed_author["bio"]
    fields = (await redis.xrange(names.ARTICLES_PUBLISHED))[0][1]
    assert fields[b"specversion"] == b"1.0" and fields[b"source"] == b"/galley/publish"


async def test_update_correction_and_kill_each_reach_the_page_and_the_stream(
    redis_server: Any, redis: Any, tmp_path: Path
) -> None:
    async with running(redis_server.url, tmp_path, lambda: datetime.now(UTC)) as client:
        path = "/articles/story-number-1"
        for article in (
            simple_story(1),
            simple_story(1, version=2, headline="Updated"),
            simple_story(1, version=3, lifecycle="corrected", correction="Fixed."),
        ):
            await redis.xadd(names.ARTICLES_ENRICHED, enriched_event(article).to_fields())
        await eventually(lambda: _contains(client, path, "Correction:"))
        await redis.xadd(
            names.ARTICLES_ENRICHED,
            enriched_event(simple_story(1, version=4, lifecycle="killed")).to_fields(),
        )
        await eventually(lambda: _is(client, path, 410))
        assert "story-number-1" not in (await client.get("/feeds/rss.xml")).text
        await eventually(lambda: _count(redis, 4))

    assert [t for t, _ in await published(redis)] == [
        names.ARTICLE_PUBLISHED,
        names.ARTICLE_UPDATED,
        names.ARTICLE_CORRECTED,
        names.ARTICLE_KILLED,
    ]


async def test_an_embargoed_story_appears_at_its_time_even_after_a_restart(
    redis_server: Any, redis: Any, tmp_path: Path
) -> None:
    clock = Clock(datetime.now(UTC))
    embargo = clock() + timedelta(hours=1)
    path = "/articles/story-number-7"

    # The service receives the embargoed story, then stops before its time.
    async with running(redis_server.url, tmp_path, clock) as client:
        await redis.xadd(
            names.ARTICLES_ENRICHED, enriched_event(simple_story(7, embargoed=embargo)).to_fields()
        )
        await eventually(lambda: _held(tmp_path))
        assert await status(client, path) == 404
        assert "story-number-7" not in (await client.get("/")).text

    assert await published(redis) == []
    clock.now = embargo + timedelta(seconds=1)  # the embargo lifts while publish is down

    # On restart the scheduler finds the due story in the database.
    async with running(redis_server.url, tmp_path, clock) as client:
        await eventually(lambda: _is(client, path, 200))
        assert "story-number-7" in (await client.get("/")).text
        await eventually(lambda: _count(redis, 1))

    assert [t for t, _ in await published(redis)] == [names.ARTICLE_PUBLISHED]


async def test_an_embargo_lifting_while_running_shows_the_story_everywhere(
    redis_server: Any, redis: Any, tmp_path: Path
) -> None:
    clock = Clock(datetime.now(UTC))
    embargo = clock() + timedelta(minutes=5)
    path = "/articles/story-number-8"
    async with running(redis_server.url, tmp_path, clock) as client:
        await redis.xadd(
            names.ARTICLES_ENRICHED, enriched_event(simple_story(8, publish_at=embargo)).to_fields()
        )
        await eventually(lambda: _held(tmp_path))
        assert await status(client, path) == 404
        clock.now = embargo
        await eventually(lambda: _is(client, path, 200))
        for feed in ("/", "/feeds/atom.xml", "/sitemap-news.xml", "/subjects/city"):
            assert "story-number-8" in (await client.get(feed)).text
        await eventually(lambda: _count(redis, 1))


async def _is(client: httpx.AsyncClient, path: str, code: int) -> bool:
    return await status(client, path) == code


async def _contains(client: httpx.AsyncClient, path: str, text: str) -> bool:
    return text in (await client.get(path)).text


async def _count(redis: Any, n: int) -> bool:
    return int(await redis.xlen(names.ARTICLES_PUBLISHED)) >= n


async def _held(data_dir: Path) -> bool:
    import aiosqlite

    async with aiosqlite.connect(data_dir / "publish.db") as conn:
        async with conn.execute("SELECT COUNT(*) FROM articles WHERE held IS NOT NULL") as cur:
            row = await cur.fetchone()
    return bool(row and row[0])
