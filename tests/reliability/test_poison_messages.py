"""Poison on the enrichment input: each kind ends in dlq.enrichment with its reason, the
stories behind it are still published, and `galley dlq` lists, shows and retries them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis as sync_redis

from galley.cli import main
from galley.supervisor import Pipeline, healthy
from shared import names
from tests.conftest import load_fixture
from tests.e2e.conftest import base_url, eventually
from tests.reliability.conftest import FAILING_URI

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

DLQ = names.dead_letter_stream(names.ENRICHMENT)


def _story(uri: str, headline: str) -> dict[str, Any]:
    doc = load_fixture("article.json")
    doc.update(uri=uri, version="1", headlines=[{"role": "main", "value": headline}])
    return doc


def _schema_invalid() -> dict[str, str]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/galley/test",
        "type": names.ARTICLE_INGESTED,
        "subject": "urn:galley:test:no-body",
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": json.dumps({"uri": "urn:galley:test:no-body", "version": "not a number"}),
    }


def _published_uris(client: sync_redis.Redis) -> set[str]:
    return {json.loads(f["data"])["uri"] for _, f in client.xrange(names.ARTICLES_PUBLISHED)}


def _letters(client: sync_redis.Redis, n: int) -> list[tuple[str, dict[str, str]]] | None:
    found = client.xrange(DLQ)
    return found if len(found) >= n else None


def test_undecodable_schema_invalid_and_always_failing_entries_are_dead_lettered_and_the_rest_flows(
    poisoned_pipeline: Pipeline,
    redis_server: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # rich tables: one row per letter, no wrapping
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    ingest = base_url(poisoned_pipeline, "ingest")
    undecodable_id = client.xadd(
        names.ARTICLES_INGESTED, {"type": names.ARTICLE_INGESTED, "data": "{not json"}
    )
    client.xadd(names.ARTICLES_INGESTED, _schema_invalid())
    bad = httpx.post(
        f"{ingest}/v1/articles", json=_story(FAILING_URI, "This one always fails"), timeout=10
    )
    good_uri = "urn:galley:test:behind-the-poison"
    good = httpx.post(
        f"{ingest}/v1/articles", json=_story(good_uri, "Behind the poison"), timeout=10
    )
    assert bad.status_code == good.status_code == 202

    eventually(lambda: good_uri in _published_uris(client), what="the story behind the poison")
    letters = eventually(lambda: _letters(client, 3), timeout=60, what="three dead letters")
    reasons = {f.get("subject", f.get("dlq.entry_id")): f["dlq.reason"] for _, f in letters}
    assert any(r.startswith("undecodable: 'data' is not JSON") for r in reasons.values())
    assert reasons["urn:galley:test:no-body"].startswith("schema: ")
    assert "injected failure" in reasons[FAILING_URI]
    assert undecodable_id in {f["dlq.entry_id"] for _, f in letters}
    assert client.xpending(names.ARTICLES_INGESTED, names.ENRICHMENT_GROUP)["pending"] == 0

    # Operators see them, and once the fault is gone a retry publishes the story.
    failing_letter = next(i for i, f in letters if f.get("subject") == FAILING_URI)
    assert main(["dlq", "list", "--redis-url", redis_server.url]) == 0
    assert FAILING_URI in capsys.readouterr().out
    assert main(["dlq", "show", failing_letter, "--redis-url", redis_server.url]) == 0
    assert "injected failure" in capsys.readouterr().out
    for service in poisoned_pipeline.procs:  # the injected fault applies to every consumer
        if service.name in ("enrichment", "publish"):
            service.stop()
            service.env.pop("GALLEY_TEST_FAIL_SUBJECTS")
            service.start()
            eventually(lambda s=service: healthy(s.port), what=f"{service.name} back up")
    assert main(["dlq", "retry", failing_letter, "--redis-url", redis_server.url]) == 0
    eventually(lambda: FAILING_URI in _published_uris(client), what="the retried story")
    assert failing_letter not in {i for i, _ in client.xrange(DLQ)}


def _event(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {**_schema_invalid(), "subject": f"urn:galley:test:{uuid.uuid4()}"}
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def test_unknown_types_unsupported_specversions_and_non_utf8_fields_are_dead_lettered_at_once(
    poisoned_pipeline: Pipeline, redis_server: Any
) -> None:
    """Issue 17, cases 5 and 6 on a stream between services: nothing is acknowledged and
    dropped in silence, and nothing that can never succeed waits for the claimer's retries."""
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    raw = sync_redis.Redis.from_url(redis_server.url)
    ingest = base_url(poisoned_pipeline, "ingest")
    typo = client.xadd(names.ARTICLES_INGESTED, _event(type="article.ingestd"))
    future = client.xadd(names.ARTICLES_INGESTED, _event(specversion="9.9"))
    latin1 = {b"type": names.ARTICLE_INGESTED.encode(), b"source": b"/x", b"data": b'{"a":"\xe9"}'}
    not_utf8 = raw.xadd(names.ARTICLES_INGESTED, latin1).decode()
    good_uri = "urn:galley:test:behind-the-unknown"
    good = httpx.post(f"{ingest}/v1/articles", json=_story(good_uri, "Behind them"), timeout=10)
    assert good.status_code == 202

    eventually(lambda: good_uri in _published_uris(client), what="the story behind them")
    letters = eventually(lambda: _letters(client, 3), timeout=30, what="three dead letters")
    reasons = {f["dlq.entry_id"]: f["dlq.reason"] for _, f in letters if "dlq.entry_id" in f}
    assert reasons[typo].startswith("unknown-type: 'article.ingestd'")
    assert reasons[future].startswith("unsupported: specversion '9.9'")
    assert reasons[not_utf8].startswith("undecodable: ") and "not UTF-8" in reasons[not_utf8]
    assert client.xpending(names.ARTICLES_INGESTED, names.ENRICHMENT_GROUP)["pending"] == 0

    # the entry that was not UTF-8 goes back byte for byte
    letter = next(i for i, f in letters if f.get("dlq.entry_id") == not_utf8)
    assert main(["dlq", "retry", letter, "--redis-url", redis_server.url]) == 0
    restored = [
        f for _i, f in raw.xrange(names.ARTICLES_INGESTED) if f.get(b"data") == latin1[b"data"]
    ]
    assert restored == [latin1, latin1]
