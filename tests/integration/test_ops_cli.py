"""`galley status`, `galley dlq` and `galley trace` against a real Redis."""

from __future__ import annotations

from typing import Any

import pytest
import redis as sync_redis

from galley import ops
from galley.cli import main
from shared import names
from shared.envelope import Envelope
from shared.models import Rejection

pytestmark = pytest.mark.integration
URI = "urn:test:article:1"


@pytest.fixture
def client(redis_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("COLUMNS", "240")  # rich tables at full width in captured output
    c = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield c
    c.flushdb()


def event(event_type: str, version: int) -> dict[str, str]:
    return Envelope[dict[str, Any]](
        source="/test", type=event_type, subject=URI, data={"uri": URI, "version": version}
    ).to_fields()


def test_status_shows_length_pending_and_dead_letters(
    client: Any, redis_server: Any, capsys: Any
) -> None:
    client.xadd(names.ARTICLES_INGESTED, event(names.ARTICLE_INGESTED, 1))
    client.xadd(names.ARTICLES_INGESTED, event(names.ARTICLE_INGESTED, 2))
    client.xgroup_create(names.ARTICLES_INGESTED, names.ENRICHMENT_GROUP, id="0")
    client.xreadgroup(names.ENRICHMENT_GROUP, "worker-1", {names.ARTICLES_INGESTED: ">"}, count=1)
    client.xadd("dlq.enrichment", {"dlq.reason": "boom", "dlq.stream": "articles.ingested"})

    status = ops.stream_status(client, names.ARTICLES_INGESTED)
    assert status.length == 2
    group = status.groups[0]
    assert (group.name, group.pending, group.lag) == (names.ENRICHMENT_GROUP, 1, 1)
    assert group.consumers[0]["name"] == "worker-1"
    assert group.oldest_pending_age_s is not None

    assert main(["status", "--redis-url", redis_server.url]) == 0
    out = capsys.readouterr().out
    assert "articles.ingested" in out
    assert "dlq.enrichment" in out


def test_dlq_retry_puts_the_original_entry_back_and_removes_the_letter(
    client: Any, redis_server: Any, capsys: Any
) -> None:
    original = event(names.ARTICLE_INGESTED, 3)
    letter_id = client.xadd(
        "dlq.enrichment",
        {
            **original,
            "dlq.reason": "schema: x",
            "dlq.stream": names.ARTICLES_INGESTED,
            "dlq.entry_id": "1-0",
        },
    )
    assert main(["dlq", "list", "--redis-url", redis_server.url]) == 0
    assert "schema: x" in capsys.readouterr().out
    assert main(["dlq", "show", letter_id, "--redis-url", redis_server.url]) == 0
    assert main(["dlq", "retry", letter_id, "--redis-url", redis_server.url]) == 0

    assert client.xlen("dlq.enrichment") == 0
    [(_id, fields)] = client.xrange(names.ARTICLES_INGESTED)
    assert fields == original


def test_trace_lists_every_hop_of_one_article_in_order(
    client: Any, redis_server: Any, capsys: Any
) -> None:
    client.xadd(names.ARTICLES_INGESTED, event(names.ARTICLE_INGESTED, 1))
    client.xadd(
        names.ARTICLES_INGESTED,
        Envelope[dict[str, Any]](
            source="/test",
            type=names.ARTICLE_INGESTED,
            subject="urn:other",
            data={"uri": "urn:other", "version": 1},
        ).to_fields(),
    )
    client.xadd(names.ARTICLES_ENRICHED, event(names.ARTICLE_ENRICHED, 1))
    client.xadd(names.ARTICLES_PUBLISHED, event(names.ARTICLE_PUBLISHED, 1))
    client.xadd(
        names.ARTICLES_REJECTED,
        Envelope[Rejection](
            source="/test",
            type=names.ARTICLE_REJECTED,
            subject=URI,
            data=Rejection(reason="stale", uri=URI),
        ).to_fields(),
    )

    hops = ops.trace(client, URI, scan_count=1)
    assert [h.type for h in hops] == [
        names.ARTICLE_INGESTED,
        names.ARTICLE_ENRICHED,
        names.ARTICLE_PUBLISHED,
        names.ARTICLE_REJECTED,
    ]
    assert main(["trace", URI, "--redis-url", redis_server.url]) == 0
    out = capsys.readouterr().out
    assert "accepted at ingest" in out and "published" in out


def test_replay_takes_the_same_redis_url_option_as_the_other_commands(
    client: Any, redis_server: Any, capsys: Any
) -> None:
    client.xadd(names.ARTICLES_PUBLISHED, event(names.ARTICLE_PUBLISHED, 1))
    assert main(["replay", "--redis-url", redis_server.url, "--from-start", "--no-follow"]) == 0
    assert URI in capsys.readouterr().out
