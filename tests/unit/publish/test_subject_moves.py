"""A subject whose slug an older release spelled differently answers its old addresses
with a permanent redirect (publish's migration 2 keeps the old slugs)."""

from __future__ import annotations

import httpx

from services.publish.store import Store
from tests.unit.publish.conftest import Publisher
from tests.unit.publish.factories import simple_story


async def test_the_old_subject_page_and_feeds_redirect_to_the_new_slug(
    client: httpx.AsyncClient, store: Store, publish: Publisher
) -> None:
    await publish(simple_story(1).model_copy(update={"subjects": ["Côte d'Ivoire"]}))
    async with store.db.transaction() as conn:  # what migration 2 records for it
        await conn.execute("INSERT INTO subject_moves VALUES ('cote-d-ivoire', 'cote-divoire')")

    page = await client.get("/subjects/cote-d-ivoire?after=x")
    assert (page.status_code, page.headers["location"]) == (301, "/subjects/cote-divoire?after=x")
    feed = await client.get("/subjects/cote-d-ivoire/rss.xml")
    assert (feed.status_code, feed.headers["location"]) == (301, "/subjects/cote-divoire/rss.xml")
    assert (await client.get("/subjects/cote-divoire")).status_code == 200
    assert (await client.get("/subjects/nowhere")).status_code == 404
