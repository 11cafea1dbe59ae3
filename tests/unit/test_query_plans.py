"""Per-event statements find their rows through an index, never by scanning a table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.publish import domain as publish_domain
from services.publish.store import Store as PublishStore
from services.webhooks import domain as webhooks_domain
from services.webhooks.store import MIGRATIONS as WEBHOOKS_MIGRATIONS
from services.webhooks.store import Store as WebhooksStore
from services.webhooks.store import new_id
from shared.infra.db import Database
from tests.plans import scans
from tests.unit.publish.factories import enriched_event, simple_story

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_publishing_and_republishing_an_article_scans_no_table(tmp_path: Path) -> None:
    store = await PublishStore.open(str(tmp_path / "publish.db"))
    try:
        for n in range(20):  # something to scan
            story = simple_story(n)
            await store.apply(
                enriched_event(story).id,
                story.uri,
                lambda s, a=story: publish_domain.receive(s, a, NOW),
                NOW,
            )
        update = simple_story(3, version=2, subjects=["City", "Weather"])
        async with scans(store.db) as scanned:
            await store.apply(
                enriched_event(update).id,
                update.uri,
                lambda s: publish_domain.receive(s, update, NOW),
                NOW,
            )
        assert scanned == {}
    finally:
        await store.close()


async def test_accepting_an_event_for_subscribers_scans_only_the_subscription_list(
    tmp_path: Path,
) -> None:
    store = WebhooksStore(
        await Database.open(tmp_path / "webhooks.db", migrations=WEBHOOKS_MIGRATIONS)
    )
    try:
        for i in range(3):
            sub = webhooks_domain.Subscription(
                id=new_id("sub"),
                url=f"https://hooks.example/{i}",
                event_types=("article.published",),
                subject_filter=None,
            )
            await store.add_subscription(sub, "whsec_x", NOW)
        for n in range(20):
            await _accept(store, f"evt-{n}", f"urn:test:story:{n}")
        async with scans(store.db) as scanned:
            queued = await _accept(store, "evt-update", "urn:test:story:3")
        assert queued == 3
        # the subscription list is read whole on purpose: a handful of rows, filtered in Python
        assert set(scanned) == {"subscriptions"}
    finally:
        await store.db.close()


async def test_an_event_nobody_subscribes_to_is_marked_processed_and_not_stored(
    tmp_path: Path,
) -> None:
    store = WebhooksStore(
        await Database.open(tmp_path / "webhooks.db", migrations=WEBHOOKS_MIGRATIONS)
    )
    try:
        made: list[str] = []
        assert await _accept(store, "evt-1", "urn:test:story:1", made) == 0
        assert await _accept(store, "evt-1", "urn:test:story:1", made) == 0
        assert made == []  # the body was never built
        events = await store.db.fetchone("SELECT COUNT(*) FROM events")
        processed = await store.db.fetchone("SELECT COUNT(*) FROM processed_events")
        assert (events[0], processed[0]) == (0, 1)
    finally:
        await store.db.close()


async def _accept(
    store: WebhooksStore, event_id: str, subject: str, made: list[str] | None = None
) -> int:
    def body() -> str:
        if made is not None:
            made.append(event_id)
        return "{}"

    return await store.accept_event(
        event_id,
        "article.published",
        subject,
        body,
        NOW,
        lambda subs, received: webhooks_domain.recipients(
            subs, "article.published", subject, received
        ),
    )
