"""Two replicas of enrichment on one SQLite file agree: each catches up before it writes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest_asyncio

from services.enrichment.app import catch_up_with_replicas
from services.enrichment.handlers import Enrichment
from services.enrichment.store import Store
from shared.models import AuthorProfile, EnrichedArticle
from tests.unit.enrichment.factories import article_from_ninjs, author_updated, ingested

NOW = datetime(2025, 3, 1, tzinfo=UTC)


async def _replica(path: Path) -> Enrichment:
    store = await Store.open(str(path))
    service = Enrichment(store, now=lambda: NOW)
    seen = await store.last_change()
    await service.load()
    store.on_begin = catch_up_with_replicas(service, seen)
    return service


@pytest_asyncio.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[tuple[Enrichment, Enrichment]]:
    one, two = (
        await _replica(tmp_path / "enrichment.db"),
        await _replica(tmp_path / "enrichment.db"),
    )
    yield one, two
    await one.store.close()
    await two.store.close()


async def _last_emitted(svc: Enrichment) -> EnrichedArticle:
    row = await svc.store.db.fetchone("SELECT fields FROM outbox ORDER BY seq DESC LIMIT 1")
    assert row is not None
    return EnrichedArticle.model_validate_json(json.loads(row["fields"])["data"])


async def test_a_replica_links_to_a_story_another_replica_archived_after_it_started(
    replicas: tuple[Enrichment, Enrichment], seed_related: Any, seed_article: Any
) -> None:
    one, two = replicas
    await one.on_article(ingested(article_from_ninjs(seed_related)))

    await two.on_article(ingested(article_from_ninjs(seed_article)))

    enriched = await _last_emitted(two)
    assert seed_related["uri"] in {link.uri for link in enriched.related}
    assert seed_related["uri"] in two.index


async def test_a_replica_knows_an_author_another_replica_stored(
    replicas: tuple[Enrichment, Enrichment], seed_author: Any, seed_article: Any
) -> None:
    one, two = replicas
    await one.on_author(author_updated(seed_author))

    await two.on_article(ingested(article_from_ninjs(seed_article)))

    enriched = await _last_emitted(two)
    profile = AuthorProfile.model_validate(seed_author)
    assert profile.slug in {card.slug for card in enriched.authors}


async def test_a_story_killed_on_one_replica_is_never_linked_by_the_other(
    replicas: tuple[Enrichment, Enrichment], seed_related: Any, seed_article: Any
) -> None:
    one, two = replicas
    await two.on_article(ingested(article_from_ninjs(seed_related)))
    await one.on_article(
        ingested(
            article_from_ninjs(seed_related, version=2, pubstatus="canceled", lifecycle="killed")
        )
    )

    await two.on_article(ingested(article_from_ninjs(seed_article)))

    enriched = await _last_emitted(two)
    assert seed_related["uri"] not in {link.uri for link in enriched.related}
