"""Every retry rule against a local receiver that fails on purpose."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from standardwebhooks import Webhook

from shared import names
from tests.integration.webhooks.conftest import Harness, Start
from tests.integration.webhooks.receiver import Received, Receiver, Reply
from tests.polling import eventually
from tests.unit.webhooks.factories import event, wait_for

pytestmark = pytest.mark.integration


def fail_first(times: int, status: int = 500, **reply: object) -> object:
    def script(_request: Received, n: int) -> Reply:
        return Reply(status, **reply) if n < times else Reply(200)  # type: ignore[arg-type]

    return script


async def test_a_5xx_is_retried_with_the_same_webhook_id_and_a_fresh_timestamp(
    start_webhooks: Start, receiver: Receiver
) -> None:
    # One retry, a little over a second later, so the two timestamps differ.
    webhooks = await start_webhooks(retry_schedule="1.05", jitter=0)
    receiver.script = fail_first(1, 503)  # type: ignore[assignment]
    sub = await webhooks.subscribe(receiver.url())
    await webhooks.publish(event())

    [entry] = await webhooks.settled(sub["id"], 1)
    first, second = receiver.on("/hook")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == entry["webhook_id"]
    assert int(second.headers["webhook-timestamp"]) > int(first.headers["webhook-timestamp"])
    for request in (first, second):
        Webhook(sub["secret"]).verify(request.body, request.headers)
    assert entry["state"] == "delivered"
    assert [a["status"] for a in entry["history"]] == [503, 200]


async def test_the_delivery_log_shows_state_attempts_last_status_and_next_attempt(
    webhooks: Harness, receiver: Receiver
) -> None:
    gate = asyncio.Event()

    def script(_request: Received, n: int) -> Reply:
        return Reply(500) if n < 2 else Reply(200, gate=gate)

    receiver.script = script
    sub = await webhooks.subscribe(receiver.url())
    await webhooks.publish(event())

    await wait_for(lambda: len(receiver.on("/hook")) == 3)
    [pending] = await webhooks.log(sub["id"])
    assert pending["state"] == "pending"
    assert pending["attempts"] == 2
    assert pending["last_status"] == 500
    assert pending["last_error"] == "HTTP 500"
    assert datetime.fromisoformat(pending["next_attempt_at"]) >= datetime.fromisoformat(
        pending["history"][-1]["at"]
    )
    gate.set()

    [done] = await webhooks.settled(sub["id"], 1)
    assert (done["state"], done["attempts"], done["last_status"]) == ("delivered", 3, 200)
    assert done["next_attempt_at"] is None
    assert [a["n"] for a in done["history"]] == [1, 2, 3]


async def test_retries_stop_after_the_schedule_and_the_delivery_is_failed(
    webhooks: Harness, receiver: Receiver
) -> None:
    receiver.script = lambda _r, _n: Reply(500)
    sub = await webhooks.subscribe(receiver.url())
    await webhooks.publish(event())

    [entry] = await webhooks.settled(sub["id"], 1)
    assert entry["state"] == "failed"
    assert entry["attempts"] == 4  # the first try and the three of FAST_SCHEDULE
    assert len(receiver.on("/hook")) == 4


async def test_a_410_disables_the_subscription_and_stops_its_deliveries(
    webhooks: Harness, receiver: Receiver
) -> None:
    receiver.script = lambda _r, _n: Reply(410)
    sub = await webhooks.subscribe(receiver.url())
    await webhooks.publish(event())

    [entry] = await webhooks.settled(sub["id"], 1)
    assert entry["state"] == "disabled"
    subscription = (await webhooks.http.get(f"/v1/subscriptions/{sub['id']}")).json()
    assert subscription["state"] == "disabled"
    assert "410" in subscription["disabled_reason"]

    other = await webhooks.subscribe(receiver.url("/other"))
    await webhooks.publish(event(names.ARTICLE_PUBLISHED, "later-story"))
    await webhooks.settled(other["id"], 1)
    assert len(await webhooks.log(sub["id"])) == 1  # nothing new queued for a disabled one
    assert len(receiver.on("/hook")) == 1


async def test_a_429_waits_at_least_as_long_as_retry_after_says(
    webhooks: Harness, receiver: Receiver
) -> None:
    receiver.script = fail_first(1, 429, headers={"Retry-After": "1"})  # type: ignore[assignment]
    sub = await webhooks.subscribe(receiver.url())
    await webhooks.publish(event())

    async def waiting() -> dict[str, object] | None:
        entries = await webhooks.log(sub["id"])
        return entries[0] if entries and entries[0]["attempts"] == 1 else None

    entry = await eventually(waiting)
    attempted = datetime.fromisoformat(entry["history"][0]["at"])
    next_at = datetime.fromisoformat(entry["next_attempt_at"])
    assert (next_at - attempted).total_seconds() >= 1.0  # not FAST_SCHEDULE's 0.05 s
    assert entry["last_status"] == 429

    [done] = await webhooks.settled(sub["id"], 1)
    assert done["state"] == "delivered"


async def test_a_302_is_a_failure_and_the_location_is_never_followed(
    webhooks: Harness, receiver: Receiver
) -> None:
    def script(request: Received, _n: int) -> Reply:
        if request.path == "/hook":
            return Reply(302, headers={"Location": receiver.url("/elsewhere")})
        return Reply(200)

    receiver.script = script
    sub = await webhooks.subscribe(receiver.url())
    await webhooks.publish(event())

    [entry] = await webhooks.settled(sub["id"], 1)
    assert entry["state"] == "failed"
    assert entry["last_status"] == 302
    assert "redirects are not followed" in entry["last_error"]
    assert receiver.on("/elsewhere") == []


async def test_a_slow_endpoint_does_not_delay_another_one(
    webhooks: Harness, receiver: Receiver
) -> None:
    gate = asyncio.Event()

    def script(request: Received, _n: int) -> Reply:
        return Reply(200, gate=gate) if request.path == "/slow" else Reply(200)

    receiver.script = script
    slow = await webhooks.subscribe(receiver.url("/slow"))
    fast = await webhooks.subscribe(receiver.url("/fast"))
    for slug in ("one", "two", "three"):
        await webhooks.publish(event(names.ARTICLE_PUBLISHED, slug))

    await webhooks.settled(fast["id"], 3)  # all three while /slow still holds the first
    assert len(receiver.on("/slow")) == 1
    assert [e["state"] for e in await webhooks.log(slow["id"])] == ["pending"] * 3
    gate.set()
    await webhooks.settled(slow["id"], 3)


async def test_a_dead_endpoint_is_retried_and_catches_up_when_it_comes_back(
    start_webhooks: Start, receiver: Receiver
) -> None:
    webhooks = await start_webhooks(retry_schedule="0.05,0.1,2,2", jitter=0)
    sub = await webhooks.subscribe(receiver.url())
    await receiver.stop()  # the receiver is down: connections are refused
    await webhooks.publish(event())

    async def retried() -> bool:
        entries = await webhooks.log(sub["id"])
        return bool(entries) and entries[0]["attempts"] == 2

    await eventually(retried)
    await receiver.start()  # same port, well before the third attempt is due

    [entry] = await webhooks.settled(sub["id"], 1)
    assert entry["state"] == "delivered"
    assert [a["status"] for a in entry["history"]] == [None, None, 200]
    assert all(a["error"] for a in entry["history"][:2])
    assert len(receiver.on("/hook")) == 1
