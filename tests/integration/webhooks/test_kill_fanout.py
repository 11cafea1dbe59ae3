"""A kill reaches every subscription that was sent the article."""

from __future__ import annotations

import json

import pytest

from shared import names
from tests.integration.webhooks.conftest import Harness
from tests.integration.webhooks.receiver import Receiver
from tests.unit.webhooks.factories import event

pytestmark = pytest.mark.integration

URI = "urn:newsroom:seed-story"


async def test_a_kill_goes_to_every_subscription_that_received_the_article(
    webhooks: Harness, receiver: Receiver
) -> None:
    # Only wants first publications of this one story: its filter would not take a kill.
    cdn = await webhooks.subscribe(
        receiver.url("/cdn"), event_types=[names.ARTICLE_PUBLISHED], subject_filter=URI
    )
    # Never got the story: its filter does not match it.
    sport = await webhooks.subscribe(receiver.url("/sport"), subject_filter="urn:newsroom:sport-*")
    await webhooks.publish(event(names.ARTICLE_PUBLISHED, "seed-story"))
    await webhooks.settled(cdn["id"], 1)
    # Registered after the publication, and only for first publications.
    late = await webhooks.subscribe(receiver.url("/late"), event_types=[names.ARTICLE_PUBLISHED])

    await webhooks.publish(event(names.ARTICLE_KILLED, "seed-story", version=2))

    entries = await webhooks.settled(cdn["id"], 2)
    assert [e["event_type"] for e in entries] == [names.ARTICLE_KILLED, names.ARTICLE_PUBLISHED]
    assert [json.loads(r.body)["type"] for r in receiver.on("/cdn")] == [
        names.ARTICLE_PUBLISHED,
        names.ARTICLE_KILLED,
    ]
    assert await webhooks.log(sport["id"]) == []
    assert await webhooks.log(late["id"]) == []


async def test_a_subscription_for_kills_gets_them_even_without_the_story(
    webhooks: Harness, receiver: Receiver
) -> None:
    takedowns = await webhooks.subscribe(
        receiver.url("/takedowns"), event_types=[names.ARTICLE_KILLED]
    )
    await webhooks.publish(event(names.ARTICLE_PUBLISHED, "seed-story"))
    await webhooks.publish(event(names.ARTICLE_KILLED, "seed-story", version=2))

    [entry] = await webhooks.settled(takedowns["id"], 1)
    assert entry["event_type"] == names.ARTICLE_KILLED
