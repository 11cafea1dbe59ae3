"""The stream handler on an in-memory SQLite store: once per event, in order per article."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from services.webhooks import domain
from services.webhooks.handlers import make_on_published
from services.webhooks.store import MIGRATIONS, Outcome, Store
from shared import names
from shared.infra.db import Database
from tests.unit.webhooks.factories import T0, event


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    db = await Database.open(tmp_path / "webhooks.db", migrations=MIGRATIONS)
    yield Store(db)
    await db.close()


async def subscribe(store: Store, sid: str) -> None:
    sub = domain.Subscription(sid, "http://127.0.0.1/hook", names.PUBLISHED_EVENT_TYPES, None)
    await store.add_subscription(sub, domain.new_secret(b"k" * 32), T0)


async def test_an_event_handled_twice_queues_one_delivery(store: Store) -> None:
    await subscribe(store, "sub_a")
    woken: list[bool] = []
    handle = make_on_published(store, lambda: woken.append(True), lambda: T0)
    published = event()
    await handle(published)
    await handle(published)

    assert [d.subscription_id for d in await store.due(T0, 10)] == ["sub_a"]
    assert woken == [True]


async def test_a_later_version_waits_until_the_earlier_one_is_settled(store: Store) -> None:
    await subscribe(store, "sub_a")
    handle = make_on_published(store, lambda: None, lambda: T0)
    await handle(event(names.ARTICLE_PUBLISHED, "story", 1))
    await handle(event(names.ARTICLE_UPDATED, "story", 2))
    await handle(event(names.ARTICLE_PUBLISHED, "other", 1))

    first, other = await store.due(T0, 10)
    assert '"version":1' in first.body and '"slug":"story"' in first.body
    assert '"slug":"other"' in other.body
    await store.record_attempt(first, Outcome(200, None, "delivered", None), T0)
    second, _other = await store.due(T0, 10)
    assert '"version":2' in second.body and '"slug":"story"' in second.body


async def test_the_body_is_the_cloudevent_with_its_attributes_and_data(store: Store) -> None:
    await subscribe(store, "sub_a")
    published = event()
    await make_on_published(store, lambda: None, lambda: T0)(published)
    [due] = await store.due(T0, 10)
    assert due.body.startswith('{"specversion":"1.0","id":"' + published.id)
    assert '"data":{' in due.body
