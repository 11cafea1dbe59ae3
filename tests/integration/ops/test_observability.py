"""Trace context, metrics and logs across the real services (separate processes)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import redis as sync_redis

from galley.supervisor import Pipeline
from shared import names
from shared.infra.observability import new_traceparent, trace_id_of
from tests.conftest import load_fixture
from tests.e2e.conftest import base_url, eventually


def _published(redis_url: str, uri: str) -> dict[str, str] | None:
    client = sync_redis.Redis.from_url(redis_url, decode_responses=True)
    for _, fields in client.xrange(names.ARTICLES_PUBLISHED):
        if fields.get("subject") == uri:
            return fields
    return None


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, flags=re.M)
    return float(found.group(1)) if found else 0.0


def test_the_traceparent_of_a_post_arrives_on_articles_published_with_metrics_on_every_hop(
    pipeline: Pipeline, redis_server: Any
) -> None:
    ingest, publish = base_url(pipeline, "ingest"), base_url(pipeline, "publish")
    article = load_fixture("article.json")
    sent = new_traceparent()

    resp = httpx.post(
        f"{ingest}/v1/articles", json=article, headers={"traceparent": sent}, timeout=10
    )

    assert resp.status_code == 202, resp.text
    assert trace_id_of(resp.headers["traceparent"]) == trace_id_of(sent)
    published = eventually(
        lambda: _published(redis_server.url, article["uri"]),
        what="the article on articles.published",
    )
    assert trace_id_of(published["traceparent"]) == trace_id_of(sent)
    assert published["traceparent"] != sent  # a child span, not the caller's span

    metrics = httpx.get(f"{publish}/metrics", timeout=5).text
    assert (
        _metric(metrics, 'galley_end_to_end_latency_seconds_count{type="article.published"}') == 1
    )
    assert 'galley_dead_letters{stream="dlq.publish"} 0.0' in metrics
    assert "faststream_received_messages_total" in metrics
    enrichment = httpx.get(f"{base_url(pipeline, 'enrichment')}/metrics", timeout=5).text
    assert _metric(enrichment, 'galley_events_handled_total{type="article.ingested"}') == 1


def test_a_post_without_traceparent_starts_a_new_trace_that_reaches_publish(
    pipeline: Pipeline, redis_server: Any
) -> None:
    article = load_fixture("related-pow.json")

    resp = httpx.post(f"{base_url(pipeline, 'ingest')}/v1/articles", json=article, timeout=10)

    started = trace_id_of(resp.headers["traceparent"])
    assert started is not None
    published = eventually(
        lambda: _published(redis_server.url, article["uri"]),
        what="the article on articles.published",
    )
    assert trace_id_of(published["traceparent"]) == started


def test_service_logs_are_json_lines_carrying_the_article_uri_and_event_id(
    pipeline: Pipeline, redis_server: Any
) -> None:
    import json

    article = load_fixture("feed-budget.json")
    httpx.post(f"{base_url(pipeline, 'ingest')}/v1/articles", json=article, timeout=10)
    eventually(lambda: _published(redis_server.url, article["uri"]), what="publication")
    eventually(
        lambda: any(
            '"uri"' in line for p in pipeline.procs for line in p.log_path.read_text().splitlines()
        ),
        what="a log line",
    )
    records = [
        json.loads(line)
        for p in pipeline.procs
        for line in p.log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    with_uri = [r for r in records if r.get("uri") == article["uri"]]
    assert with_uri, records[-5:]
    assert all(r.get("event_id") and r.get("service") for r in with_uri)
