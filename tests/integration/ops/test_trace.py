"""`galley trace`: one article from the HTTP request to every webhook subscriber."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis as sync_redis

from galley import ops
from galley.cli import main
from galley.supervisor import Pipeline
from shared import names
from tests.conftest import load_fixture
from tests.e2e.conftest import base_url, eventually
from tests.integration.ops.conftest import Receiver


@pytest.fixture
def traced_pipeline(loopback_webhooks: None, pipeline: Pipeline) -> Pipeline:
    return pipeline


def test_trace_shows_each_hop_and_the_delivery_to_each_subscriber_with_durations(
    traced_pipeline: Pipeline, redis_server: Any, receiver: Receiver, capsys: Any
) -> None:
    webhooks = base_url(traced_pipeline, "webhooks")
    sub = httpx.post(f"{webhooks}/v1/subscriptions", json={"url": receiver.url}, timeout=5)
    assert sub.status_code == 201, sub.text
    article = load_fixture("article.json")
    httpx.post(f"{base_url(traced_pipeline, 'ingest')}/v1/articles", json=article, timeout=10)
    eventually(lambda: receiver.received, what="the webhook delivery")
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)

    def delivered() -> list[ops.Hop]:
        hops, _ = ops.full_trace(client, article["uri"], webhooks_url=webhooks)
        return [h for h in hops if h.label.startswith("delivered to")]

    eventually(delivered, what="a delivered hop")
    code = main(
        ["trace", article["uri"], "--redis-url", redis_server.url, "--webhooks-url", webhooks]
    )

    out = capsys.readouterr().out
    assert code == 0
    for label in ("accepted at ingest", "enriched", "published", f"delivered to {receiver.url}"):
        assert label in out
    assert out.count(" ms") >= 6  # since previous and since accepted, per later hop
    assert "trace ids:" in out


def test_trace_reads_deliveries_from_the_webhooks_database_when_the_service_is_not_asked(
    traced_pipeline: Pipeline, redis_server: Any, receiver: Receiver
) -> None:
    webhooks = base_url(traced_pipeline, "webhooks")
    httpx.post(f"{webhooks}/v1/subscriptions", json={"url": receiver.url}, timeout=5)
    article = load_fixture("related-pow.json")
    httpx.post(f"{base_url(traced_pipeline, 'ingest')}/v1/articles", json=article, timeout=10)
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)

    def delivered() -> list[ops.Hop]:
        hops, _ = ops.full_trace(client, article["uri"], data_dir=str(traced_pipeline.data_dir))
        return [h for h in hops if h.label.startswith("delivered to")]

    hops = eventually(delivered, what="a delivered hop from webhooks.db")
    assert hops[0].type == names.ARTICLE_PUBLISHED
    assert hops[0].version == 1
