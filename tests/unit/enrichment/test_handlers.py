"""The enrichment handlers on a real SQLite store: seed check, re-enrichment, replay."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest_asyncio

from services.enrichment.handlers import Enrichment
from services.enrichment.store import Store
from shared.models import EnrichedArticle
from tests.unit.enrichment.factories import article_from_ninjs, author_updated, ingested

NOW = datetime(2025, 3, 1, tzinfo=UTC)


@pytest_asyncio.fixture
async def service(tmp_path: Path) -> AsyncIterator[Enrichment]:
    store = await Store.open(str(tmp_path / "enrichment.db"))
    svc = Enrichment(store, now=lambda: NOW)
    await svc.load()
    yield svc
    await store.close()


async def emitted(svc: Enrichment) -> list[EnrichedArticle]:
    rows = await svc.store.db.fetchall("SELECT fields FROM outbox ORDER BY seq")
    return [EnrichedArticle.model_validate_json(json.loads(r["fields"])["data"]) for r in rows]


async def post_seed(svc: Enrichment, author: Any, related: Any, budget: Any, art: Any) -> None:
    await svc.on_author(author_updated(author))
    await svc.on_article(ingested(article_from_ninjs(related)))
    await svc.on_article(ingested(article_from_ninjs(budget)))
    await svc.on_article(ingested(article_from_ninjs(art)))


async def test_seed_article_links_the_pow_story_first_and_not_the_budget_story(
    service: Enrichment,
    seed_author: Any,
    seed_related: Any,
    seed_budget: Any,
    seed_article: Any,
) -> None:
    await post_seed(service, seed_author, seed_related, seed_budget, seed_article)
    enriched = (await emitted(service))[-1]
    assert enriched.uri == seed_article["uri"]
    assert enriched.related[0].uri == seed_related["uri"]
    assert seed_budget["uri"] not in {link.uri for link in enriched.related}
    assert enriched.related[0].matched_terms
    author = enriched.authors[0]
    assert (author.slug, author.url) == ("martin-fornusek", "/authors/martin-fornusek")
    assert author.bio == seed_author["bio"]
    assert enriched.word_count == article_from_ninjs(seed_article).word_count


async def test_author_update_reenriches_that_authors_articles_with_a_higher_revision(
    service: Enrichment,
    seed_author: Any,
    seed_related: Any,
    seed_budget: Any,
    seed_article: Any,
) -> None:
    await post_seed(service, seed_author, seed_related, seed_budget, seed_article)
    before = len(await emitted(service))
    await service.on_author(author_updated({**seed_author, "bio": "New bio."}))
    again = (await emitted(service))[before:]
    assert sorted(e.uri for e in again) == sorted([seed_article["uri"], seed_related["uri"]])
    assert all(e.enrichment_revision == 1 and e.version == 1 for e in again)
    assert all(e.authors[0].bio == "New bio." for e in again)


async def test_replayed_or_identical_author_updates_change_nothing(
    service: Enrichment,
    seed_author: Any,
    seed_article: Any,
) -> None:
    event = author_updated(seed_author)
    await service.on_author(event)
    await service.on_article(ingested(article_from_ninjs(seed_article)))
    before = await emitted(service)
    await service.on_author(event)  # the same event again
    await service.on_author(author_updated(seed_author))  # same content, new event id
    assert await emitted(service) == before


async def test_replayed_and_older_article_versions_change_nothing(
    service: Enrichment,
    seed_article: Any,
) -> None:
    v2 = ingested(article_from_ninjs(seed_article, version=2))
    await service.on_article(v2)
    await service.on_article(v2)
    await service.on_article(ingested(article_from_ninjs(seed_article, version=1)))
    assert [e.version for e in await emitted(service)] == [2]


async def test_a_kill_passes_through_and_removes_the_dead_link_from_linking_articles(
    service: Enrichment,
    seed_author: Any,
    seed_related: Any,
    seed_budget: Any,
    seed_article: Any,
) -> None:
    await post_seed(service, seed_author, seed_related, seed_budget, seed_article)
    before = len(await emitted(service))
    await service.on_article(
        ingested(
            article_from_ninjs(seed_related, version=2, lifecycle="killed", pubstatus="canceled")
        )
    )
    after = (await emitted(service))[before:]
    killed, relinked = after[0], after[1]
    assert (killed.uri, killed.lifecycle, killed.related) == (seed_related["uri"], "killed", [])
    assert relinked.uri == seed_article["uri"] and relinked.enrichment_revision == 1
    assert seed_related["uri"] not in {link.uri for link in relinked.related}


async def test_unknown_bylines_are_listed_with_counts_and_resolve_once_a_profile_arrives(
    service: Enrichment,
    seed_budget: Any,
) -> None:
    for n in (1, 2):
        art = article_from_ninjs(seed_budget, uri=f"urn:t:{n}", byline="By Ann Lee in Kyiv")
        await service.on_article(ingested(art))
    assert await service.store.unknown_authors() == [{"name": "Ann Lee", "count": 2}]
    await service.on_author(author_updated({"name": "Ann Lee", "slug": "ann-lee"}))
    assert await service.store.unknown_authors() == []
    latest = (await emitted(service))[-2:]
    assert [e.authors[0].url for e in latest] == ["/authors/ann-lee", "/authors/ann-lee"]


async def test_related_endpoint_returns_scores_and_matched_terms_and_clear_errors(
    service: Enrichment,
    seed_author: Any,
    seed_related: Any,
    seed_budget: Any,
    seed_article: Any,
) -> None:
    import httpx
    from fastapi import FastAPI

    from services.enrichment.handlers import http_router
    from shared.infra import problems

    await post_seed(service, seed_author, seed_related, seed_budget, seed_article)
    app = FastAPI()
    app.include_router(http_router())
    app.state.service = service
    problems.install(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        ok = await client.get("/v1/related", params={"uri": seed_article["uri"], "k": 3})
        missing = await client.get("/v1/related", params={"uri": "urn:nope"})
        bad_k = await client.get("/v1/related", params={"uri": seed_article["uri"], "k": 0})
        authors = await client.get("/v1/authors")
    assert ok.status_code == 200
    first = ok.json()["related"][0]
    assert first["uri"] == seed_related["uri"] and first["score"] > 0 and first["matched_terms"]
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert bad_k.status_code == 422 and "k" in bad_k.json()["detail"]
    assert [a["slug"] for a in authors.json()["authors"]] == ["martin-fornusek"]
