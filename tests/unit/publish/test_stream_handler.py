"""The articles.enriched handler on the in-memory broker with a real SQLite store."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from faststream.redis import RedisBroker, TestRedisBroker

from services.publish.assets import MAX_RECORDS, AssetStore, asset_handler
from services.publish.handlers import article_handler
from services.publish.store import Store
from shared import names
from shared.envelope import Envelope, from_fields
from shared.infra.consumer import StreamConsumer, new_broker, routes_for
from shared.models import Asset
from tests.deadletters import RecordedDeadLetters
from tests.unit.publish.factories import Clock, enriched_event, simple_story


def register(
    broker: RedisBroker,
    store: Store,
    stream: str,
    handlers: dict[str, Any],
    parked: Any,
    **options: Any,
) -> StreamConsumer:
    """Publish's consumer of `stream`, as the service builder registers it."""
    consumer = StreamConsumer(
        broker=broker,
        stream=stream,
        group=names.PUBLISH_GROUP,
        consumer="test",
        routes=routes_for(names.PUBLISH_GROUP, stream, handlers),
        dead_letters=lambda: parked,
        db=lambda: store.db,
        **options,
    )
    consumer.register()
    return consumer


def wire(store: Store, clock: Clock, parked: RecordedDeadLetters) -> tuple[RedisBroker, list[int]]:
    broker = new_broker("redis://127.0.0.1:6379/0")
    changes: list[int] = []
    handle = article_handler(lambda: store, clock, lambda: changes.append(1))
    register(broker, store, names.ARTICLES_ENRICHED, {names.ARTICLE_ENRICHED: handle}, parked)
    return broker, changes


async def test_an_enriched_event_is_stored_and_queues_article_published(
    store: Store, clock: Clock
) -> None:
    parked = RecordedDeadLetters()
    broker, changes = wire(store, clock, parked)
    event = enriched_event(simple_story(1))
    async with TestRedisBroker(broker) as br:
        await br.publish(event.to_fields(), stream=names.ARTICLES_ENRICHED)

    outbox = await store.outbox()
    assert [f["type"] for f in outbox] == [names.ARTICLE_PUBLISHED]
    published = from_fields(outbox[0])
    assert published.subject == "urn:test:story:1"
    assert published.source == names.source_of(names.PUBLISH)
    assert published.data["url"] == "/articles/story-number-1"
    assert changes and not parked.reasons


async def test_the_same_event_delivered_twice_is_applied_once(store: Store, clock: Clock) -> None:
    broker, _ = wire(store, clock, RecordedDeadLetters())
    first = enriched_event(simple_story(1))
    update = enriched_event(simple_story(1, version=2))
    async with TestRedisBroker(broker) as br:
        for event in (first, first, update, update):
            await br.publish(event.to_fields(), stream=names.ARTICLES_ENRICHED)

    types = [f["type"] for f in await store.outbox()]
    assert types == [names.ARTICLE_PUBLISHED, names.ARTICLE_UPDATED]


async def test_an_older_version_arriving_late_does_not_overwrite_the_newer_one(
    store: Store, clock: Clock
) -> None:
    broker, _ = wire(store, clock, RecordedDeadLetters())
    async with TestRedisBroker(broker) as br:
        for version in (3, 2):
            article = simple_story(1, version=version, headline=f"Version {version}")
            await br.publish(enriched_event(article).to_fields(), stream=names.ARTICLES_ENRICHED)

    state = await store.state("urn:test:story:1")
    assert state is not None and state.live is not None
    assert state.live.headline == "Version 3"
    assert len(await store.outbox()) == 1


async def test_an_entry_that_is_not_an_enriched_article_is_dead_lettered(
    store: Store, clock: Clock
) -> None:
    parked = RecordedDeadLetters()
    broker, _ = wire(store, clock, parked)
    fields: dict[str, Any] = {**enriched_event(simple_story(1)).to_fields(), "data": '{"uri": "x"}'}
    async with TestRedisBroker(broker) as br:
        await br.publish(fields, stream=names.ARTICLES_ENRICHED)

    assert parked.reasons and parked.reasons[0].startswith("schema:")
    assert await store.outbox() == []


async def test_the_same_consumer_reads_pushed_files_from_assets_stored(store: Store) -> None:
    assets = await AssetStore.open(store.db)
    broker = new_broker("redis://127.0.0.1:6379/0")
    consumer = register(
        broker,
        store,
        names.ASSETS_STORED,
        {names.ASSET_STORED: asset_handler(lambda: assets)},
        RecordedDeadLetters(),
        max_records=MAX_RECORDS,
    )
    assert (consumer.stream, consumer.max_records) == (names.ASSETS_STORED, MAX_RECORDS)
    asset = Asset(
        media_id="lead.jpg",
        mime_type="image/jpeg",
        size=3,
        sha256=hashlib.sha256(b"jpg").hexdigest(),
        content=base64.b64encode(b"jpg").decode(),
    )
    event = Envelope[Asset](
        source=names.source_of(names.INGEST),
        type=names.ASSET_STORED,
        subject="lead.jpg",
        data=asset,
    )
    async with TestRedisBroker(broker) as br:
        await br.publish(event.to_fields(), stream=names.ASSETS_STORED)

    row = await store.db.fetchone("SELECT content FROM assets WHERE media_id = 'lead.jpg'")
    assert row is not None and bytes(row[0]) == b"jpg"
