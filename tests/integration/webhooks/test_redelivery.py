"""Manual redelivery from the delivery log."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from shared import names
from tests.integration.webhooks.conftest import Harness
from tests.integration.webhooks.receiver import Receiver, Reply
from tests.unit.webhooks.factories import event

pytestmark = pytest.mark.integration


async def test_a_failed_delivery_is_redelivered_on_request_with_the_same_webhook_id(
    webhooks: Harness, receiver: Receiver
) -> None:
    receiver.script = lambda _r, _n: Reply(500)
    sub = await webhooks.subscribe(receiver.url())
    await webhooks.publish(event())
    [failed] = await webhooks.settled(sub["id"], 1)
    assert failed["state"] == "failed"

    receiver.script = lambda _r, _n: Reply(204)
    response = await webhooks.http.post(
        f"/v1/subscriptions/{sub['id']}/deliveries/{failed['id']}/redeliver"
    )
    assert response.status_code == 202

    [entry] = await webhooks.settled(sub["id"], 1)
    assert entry["state"] == "delivered"
    assert entry["attempts"] == failed["attempts"] + 1
    last = receiver.on("/hook")[-1]
    assert last.headers["webhook-id"] == failed["webhook_id"]
    Webhook(sub["secret"]).verify(last.body, last.headers)


async def test_all_failed_deliveries_of_a_subscription_are_redelivered_at_once(
    webhooks: Harness, receiver: Receiver
) -> None:
    receiver.script = lambda _r, _n: Reply(500)
    sub = await webhooks.subscribe(receiver.url())
    for slug in ("one", "two"):
        await webhooks.publish(event(names.ARTICLE_PUBLISHED, slug))
    assert {e["state"] for e in await webhooks.settled(sub["id"], 2)} == {"failed"}

    receiver.script = lambda _r, _n: Reply(200)
    response = await webhooks.http.post(
        f"/v1/subscriptions/{sub['id']}/deliveries/redeliver-failed"
    )
    assert response.json() == {"queued": 2}

    assert {e["state"] for e in await webhooks.settled(sub["id"], 2)} == {"delivered"}


async def test_redelivering_an_unknown_delivery_is_a_404_problem(
    webhooks: Harness, receiver: Receiver
) -> None:
    sub = await webhooks.subscribe(receiver.url())
    unknown = await webhooks.http.post(
        f"/v1/subscriptions/{sub['id']}/deliveries/msg_nope/redeliver"
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
