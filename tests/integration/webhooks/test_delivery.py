"""Signed delivery of published events to a subscriber on loopback."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from shared import names
from tests.integration.webhooks.conftest import Harness, Start
from tests.integration.webhooks.receiver import Receiver
from tests.unit.webhooks.factories import event, wait_for

pytestmark = pytest.mark.integration


async def test_a_published_article_is_delivered_and_verifies_with_the_reference_library(
    webhooks: Harness, receiver: Receiver
) -> None:
    sub = await webhooks.subscribe(receiver.url())
    published = event(names.ARTICLE_PUBLISHED, "seed-story")
    await webhooks.publish(published)

    await wait_for(lambda: receiver.on("/hook"))
    request = receiver.on("/hook")[0]
    payload = Webhook(sub["secret"]).verify(request.body, request.headers)

    assert payload["id"] == published.id
    assert payload["type"] == names.ARTICLE_PUBLISHED
    assert payload["subject"] == "urn:newsroom:seed-story"
    assert payload["data"]["url"] == "/articles/seed-story"
    assert request.headers["webhook-id"].startswith("msg_")
    [entry] = await webhooks.settled(sub["id"], 1)
    assert entry["state"] == "delivered"
    assert entry["webhook_id"] == request.headers["webhook-id"]


async def test_a_tampered_body_fails_verification(webhooks: Harness, receiver: Receiver) -> None:
    from standardwebhooks.webhooks import WebhookVerificationError

    sub = await webhooks.subscribe(receiver.url())
    await webhooks.publish(event())
    await wait_for(lambda: receiver.on("/hook"))
    request = receiver.on("/hook")[0]
    tampered = json.loads(request.body)
    tampered["data"]["headline"] = "Something else"

    with pytest.raises(WebhookVerificationError):
        Webhook(sub["secret"]).verify(json.dumps(tampered), request.headers)


async def test_event_types_and_subject_filter_limit_what_a_subscription_receives(
    webhooks: Harness, receiver: Receiver
) -> None:
    only_updates = await webhooks.subscribe(
        receiver.url("/updates"), event_types=[names.ARTICLE_UPDATED]
    )
    only_sport = await webhooks.subscribe(
        receiver.url("/sport"), subject_filter="urn:newsroom:sport-*"
    )
    await webhooks.publish(event(names.ARTICLE_PUBLISHED, "sport-derby"))
    await webhooks.publish(event(names.ARTICLE_PUBLISHED, "politics-vote"))
    await webhooks.publish(event(names.ARTICLE_UPDATED, "politics-vote", version=2))

    await webhooks.settled(only_sport["id"], 1)
    await webhooks.settled(only_updates["id"], 1)
    assert [json.loads(r.body)["subject"] for r in receiver.on("/sport")] == [
        "urn:newsroom:sport-derby"
    ]
    assert [json.loads(r.body)["type"] for r in receiver.on("/updates")] == [names.ARTICLE_UPDATED]


async def test_the_same_stream_event_twice_gives_one_delivery(
    webhooks: Harness, receiver: Receiver
) -> None:
    sub = await webhooks.subscribe(receiver.url())
    duplicate = event()
    await webhooks.publish(duplicate)
    await webhooks.publish(duplicate)  # e.g. the publish outbox re-sent it
    await webhooks.publish(event(names.ARTICLE_PUBLISHED, "another-story"))

    entries = await webhooks.settled(sub["id"], 2)
    await wait_for(lambda: len(receiver.on("/hook")) == 2)
    assert sorted(e["subject"] for e in entries) == [
        "urn:newsroom:another-story",
        "urn:newsroom:seed-story",
    ]


async def test_two_replicas_sharing_one_database_send_each_message_once(
    start_webhooks: Start, receiver: Receiver
) -> None:
    first = await start_webhooks()
    await start_webhooks()  # a second process of the service on the same webhooks.db
    sub = await first.subscribe(receiver.url())
    for n in range(12):
        await first.publish(event(names.ARTICLE_PUBLISHED, f"story-{n}"))

    await first.settled(sub["id"], 12)
    ids = [r.headers["webhook-id"] for r in receiver.on("/hook")]
    assert len(ids) == len(set(ids)) == 12
