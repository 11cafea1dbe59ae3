"""Publish unit fixtures: an in-memory store, a settable clock, the site over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from services.publish import domain
from services.publish.app import create_site
from services.publish.assets import AssetStore
from services.publish.settings import Settings
from services.publish.store import Store
from shared.models import EnrichedArticle
from tests.unit.publish.factories import Clock, enriched_event

BASE_URL = "https://news.example"
START = datetime(2025, 2, 4, 10, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(str(tmp_path / "publish.db"))
    yield s
    await s.close()


@pytest_asyncio.fixture
async def assets(store: Store) -> AssetStore:
    """The pushed files, in the article store's database (as the service keeps them)."""
    return await AssetStore.open(store.db)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest_asyncio.fixture
async def client(
    store: Store, assets: AssetStore, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_site(Settings(base_url=BASE_URL, page_size=3), now=clock)
    app.state.store, app.state.assets = store, assets
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


class Publisher:
    """Feeds enriched versions to the store the way the stream handler does."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock

    async def __call__(self, article: EnrichedArticle, *, tick: bool = True) -> str | None:
        if tick:
            self.clock.advance(seconds=1)
        moment = self.clock()
        event = enriched_event(article)
        return await self.store.apply(
            event.id, article.uri, lambda s: domain.receive(s, article, moment), moment
        )


@pytest.fixture
def publish(store: Store, clock: Clock) -> Publisher:
    return Publisher(store, clock)
