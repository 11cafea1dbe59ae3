"""Registering, listing and deleting subscriptions; errors as problem+json."""

from __future__ import annotations

import httpx
import pytest

from shared import names
from tests.integration.webhooks.conftest import Harness, Start
from tests.integration.webhooks.receiver import Receiver

pytestmark = pytest.mark.integration


async def test_the_secret_is_returned_once_at_registration_and_never_again(
    webhooks: Harness, receiver: Receiver
) -> None:
    created = await webhooks.subscribe(receiver.url())
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == list(names.PUBLISHED_EVENT_TYPES)
    assert created["state"] == "active"

    one = (await webhooks.http.get(f"/v1/subscriptions/{created['id']}")).json()
    listed = (await webhooks.http.get("/v1/subscriptions")).json()
    assert "secret" not in one
    assert [s["id"] for s in listed] == [created["id"]]
    assert all("secret" not in s for s in listed)


async def test_a_deleted_subscription_is_gone(webhooks: Harness, receiver: Receiver) -> None:
    created = await webhooks.subscribe(receiver.url())
    assert (await webhooks.http.delete(f"/v1/subscriptions/{created['id']}")).status_code == 204
    missing = await webhooks.http.get(f"/v1/subscriptions/{created['id']}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert (await webhooks.http.delete(f"/v1/subscriptions/{created['id']}")).status_code == 404


@pytest.mark.parametrize(
    "body, pointer",
    [
        ({"url": "http://127.0.0.1/hook", "event_types": ["article.ingested"]}, "/event_types/0"),
        ({"url": "http://127.0.0.1/hook", "event_types": []}, "/event_types"),
        ({"url": "http://127.0.0.1/hook", "secret": "mine"}, "/secret"),
        ({"event_types": ["article.killed"]}, "/url"),
    ],
)
async def test_an_invalid_registration_is_a_422_pointing_at_the_field(
    webhooks: Harness, body: dict[str, object], pointer: str
) -> None:
    response = await webhooks.http.post("/v1/subscriptions", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


async def test_a_malformed_json_body_is_a_422_problem(webhooks: Harness) -> None:
    response = await webhooks.http.post(
        "/v1/subscriptions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_delivery_log_of_an_unknown_subscription_is_a_404(webhooks: Harness) -> None:
    response = await webhooks.http.get("/v1/subscriptions/sub_nope/deliveries")
    assert response.status_code == 404


async def test_with_an_admin_key_the_subscriptions_api_wants_it(start_webhooks: Start) -> None:
    hooks = await start_webhooks(admin_key="s3cret-admin")
    assert (await hooks.http.get("/v1/subscriptions")).status_code == 401
    wrong = await hooks.http.get("/v1/subscriptions", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = await hooks.http.get(
        "/v1/subscriptions", headers={"Authorization": "Bearer s3cret-admin"}
    )
    assert right.status_code == 200


async def test_without_an_admin_key_only_loopback_clients_may_manage_subscriptions(
    start_webhooks: Start,
) -> None:
    hooks = await start_webhooks()
    remote = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=hooks.app, client=("198.51.100.7", 4000)),
        base_url="http://webhooks",
    )
    async with remote:
        refused = await remote.post("/v1/subscriptions", json={"url": "https://example.org/"})
        assert refused.status_code == 403
        assert (await remote.get("/health/live")).status_code < 300  # probes stay open
    assert (await hooks.http.get("/v1/subscriptions")).status_code == 200
