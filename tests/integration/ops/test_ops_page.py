"""The ops page against a real Redis: picture, counts, recent articles, trace, bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from galley.opsweb.app import create_app
from galley.opsweb.data import Config
from shared import names
from shared.envelope import Envelope
from shared.infra.observability import context

URI = "urn:test:ops-page:<one>"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
async def page(redis_server: Any, redis: Any) -> Any:
    config = Config(
        redis_server.url, {n: 1 for n in ("ingest", "enrichment", "publish", "webhooks")}
    )
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
        yield client


async def _publish(redis: Any, headline: str) -> None:
    for stream, event_type in (
        (names.ARTICLES_INGESTED, names.ARTICLE_INGESTED),
        (names.ARTICLES_PUBLISHED, names.ARTICLE_PUBLISHED),
    ):
        event = Envelope[dict[str, Any]](
            source="/test",
            type=event_type,
            subject=URI,
            data={"uri": URI, "version": 2, "headline": headline},
        )
        await redis.xadd(stream, event.to_fields())


async def test_the_page_draws_every_service_and_stream_with_counts_and_dead_letters(
    page: Any, redis: Any
) -> None:
    await _publish(redis, "Budget <b>passed</b>")
    await redis.xadd(names.dead_letter_stream(names.PUBLISH), {"dlq.reason": "poison"})

    resp = await page.get("/")

    assert resp.status_code == 200
    html = resp.text
    assert "<svg" in html and 'http-equiv="refresh"' in html
    for service in ("ingest", "enrichment", "publish", "webhooks"):
        assert f'data-service="{service}"' in html
    for stream in (names.ARTICLES_INGESTED, names.ARTICLES_ENRICHED, names.ARTICLES_PUBLISHED):
        assert f'data-stream="{stream}"' in html
    assert "dead letters: 1" in html
    assert "Budget &lt;b&gt;passed&lt;/b&gt;" in html  # headlines are escaped
    assert "nonce-" in resp.headers["content-security-policy"]


async def test_the_trace_view_lists_the_hops_of_one_article(page: Any, redis: Any) -> None:
    with context(traceparent=TRACEPARENT):
        await _publish(redis, "Budget")

    resp = await page.get("/trace", params={"uri": URI})

    assert resp.status_code == 200
    assert "accepted at ingest" in resp.text and "published" in resp.text
    assert "urn:test:ops-page:&lt;one&gt;" in resp.text
    assert "trace ids: 4bf92f3577b34da6a3ce929d0e0e4736" in resp.text


async def test_an_unknown_uri_says_so_and_an_empty_one_is_refused(page: Any) -> None:
    unknown = await page.get("/trace", params={"uri": "urn:nothing"})
    empty = await page.get("/trace", params={"uri": ""})

    assert unknown.status_code == 200 and "no event mentions urn:nothing" in unknown.text
    assert empty.status_code == 422


async def test_the_json_overview_has_streams_dead_letters_and_recent_articles(
    page: Any, redis: Any
) -> None:
    await _publish(redis, "Budget")

    body = (await page.get("/api/overview")).json()

    assert body["streams"][names.ARTICLES_PUBLISHED]["length"] == 1
    assert body["dead_letters"]["publish"] == 0
    assert body["recent"][0]["uri"] == URI


async def test_the_page_is_ready_while_redis_answers(page: Any) -> None:
    assert (await page.get("/health/ready")).status_code == 204


async def test_with_redis_gone_the_page_says_which_url_failed_instead_of_a_500() -> None:
    from galley.redis_server import free_port

    nobody = f"redis://127.0.0.1:{free_port()}/0"
    config = Config(nobody, {n: 1 for n in ("ingest", "enrichment", "publish", "webhooks")})
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
        html = await client.get("/")
        api = await client.get("/api/overview")
        ready = await client.get("/health/ready")

    assert html.status_code == 503
    assert f"cannot reach Redis at {nobody} (connection refused)" in html.text
    assert 'http-equiv="refresh"' in html.text  # it keeps trying
    assert api.status_code == 503 and nobody in api.json()["detail"]
    assert ready.status_code == 503
