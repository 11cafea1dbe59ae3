"""More than one replica of each service: shared work, per-article order, a replica killed.

galley does not partition streams by article. Every consumer guards its state change by
the article's version (then enrichment revision) inside a SQLite transaction that the
replicas of a service share, so the order in which replicas process events cannot let an
older version win. The first test shows that; the second kills replicas mid-run.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as sync_redis

from galley.redis_server import free_port
from galley.supervisor import SERVICES, Pipeline
from shared import names
from tests.conftest import load_fixture, running
from tests.e2e.conftest import eventually
from tests.integration.ops.conftest import Receiver
from tests.unit.enrichment.factories import article_from_ninjs, ingested
from tests.unit.publish.factories import enriched_event, enriched_from_ninjs

pytestmark = pytest.mark.e2e

REPLICAS = 2


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _replica_ports() -> int:
    """A base port whose replica ports (base + 100 * r) are free as well."""
    while True:
        base = free_port()
        if base + 100 * REPLICAS < 65_000 and all(
            _port_free(base + 100 * r) for r in range(1, REPLICAS)
        ):
            return base


@pytest.fixture
def replicated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """Two replicas of every service on a private Redis; entries left pending by a dead
    replica are claimed by the survivor after one second."""
    monkeypatch.setenv("GALLEY_CLAIM_IDLE_MS", "1000")  # every service's consumers
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
    # A delivery leased by the killed replica is retaken after timeout + 30 s (the lease).
    monkeypatch.setenv("WEBHOOKS_TIMEOUT", "2")
    with running(
        Pipeline(
            tmp_path / "data",
            redis_url=None,
            redis_port=free_port(),
            replicas=REPLICAS,
            services={n: _replica_ports() for n in SERVICES},
        ),
        timeout=90,
    ) as started:
        yield started


def _url(pipeline: Pipeline, service: str, replica: int) -> str:
    port = next(p.port for p in pipeline.procs if p.name == service and p.replica == replica)
    return f"http://127.0.0.1:{port}"


def _published(redis_url: str) -> list[dict[str, Any]]:
    client = sync_redis.Redis.from_url(redis_url, decode_responses=True)
    return [
        {**f, "data": json.loads(f["data"])} for _, f in client.xrange(names.ARTICLES_PUBLISHED)
    ]


def _settled(redis_url: str) -> bool:
    client = sync_redis.Redis.from_url(redis_url, decode_responses=True)
    for stream in (names.ARTICLES_INGESTED, names.ARTICLES_ENRICHED, names.ARTICLES_PUBLISHED):
        for group in client.xinfo_groups(stream) if client.exists(stream) else []:
            if int(group["pending"]) or int(group.get("lag") or 0):
                return False
    return True


def _story(n: int, version: int) -> dict[str, Any]:
    seed = load_fixture("article.json")
    headline = f"Replica story {n}, version {version}"
    return {
        **seed,
        "uri": f"urn:test:replicas:{n}",
        "version": version,
        "headlines": [{"role": "main", "value": headline}],
    }


def test_processing_version_2_before_version_1_leaves_version_2_everywhere(
    replicated: Pipeline,
) -> None:
    v1, v2 = _story(0, 1), _story(0, 2)
    ingest = _url(replicated, "ingest", 0)
    assert httpx.post(f"{ingest}/v1/articles", json=v2, timeout=10).status_code == 202
    stale = httpx.post(f"{_url(replicated, 'ingest', 1)}/v1/articles", json=v1, timeout=10)
    assert stale.status_code == 200  # ingest's own guard: stale, not emitted
    client = sync_redis.Redis.from_url(replicated.redis_url)
    eventually(
        lambda: any(e["subject"] == v2["uri"] for e in _published(replicated.redis_url)),
        what="version 2 published",
    )

    # A slow replica delivers version 1 late to enrichment and to publish.
    client.xadd(names.ARTICLES_INGESTED, ingested(article_from_ninjs(v1)).to_fields())
    late = enriched_event(enriched_from_ninjs(v1))
    client.xadd(names.ARTICLES_ENRICHED, late.to_fields())
    eventually(lambda: _settled(replicated.redis_url), what="every group caught up")

    enriched = [
        json.loads(f[b"data"])
        for _, f in client.xrange(names.ARTICLES_ENRICHED)
        if f[b"id"] != late.id.encode()
    ]
    assert [e["version"] for e in enriched] == [2]
    published = [e for e in _published(replicated.redis_url) if e["subject"] == v2["uri"]]
    assert [(e["type"], e["data"]["version"]) for e in published] == [(names.ARTICLE_PUBLISHED, 2)]
    for replica in range(REPLICAS):
        page = httpx.get(
            f"{_url(replicated, 'publish', replica)}/articles/{published[0]['data']['slug']}",
            timeout=5,
        )
        assert "version 2" in page.text and "version 1" not in page.text


def test_a_batch_survives_sigkill_of_one_replica_of_every_service(replicated: Pipeline) -> None:
    with Receiver() as receiver:
        hooks = _url(replicated, "webhooks", 0)
        assert (
            httpx.post(
                f"{hooks}/v1/subscriptions", json={"url": receiver.url}, timeout=5
            ).status_code
            == 201
        )
        acked: dict[str, int] = {}  # uri -> last version ingest accepted (202)
        batch = [(n, 1) for n in range(1, 31)] + [(n, 2) for n in range(1, 31, 3)]
        for i, (n, version) in enumerate(batch):
            if i == 15:
                for p in replicated.procs:
                    if p.replica == 1 and p.proc is not None:
                        p.proc.kill()  # SIGKILL: no graceful stop, entries left pending
            acked.update(_post(replicated, _story(n, version), prefer=i % REPLICAS))

        def all_published() -> bool:
            last: dict[str, int] = {}
            for event in _published(replicated.redis_url):
                last[event["subject"]] = event["data"]["version"]
            return all(last.get(uri) == version for uri, version in acked.items())

        eventually(all_published, timeout=60, what="every acked article at its last version")
        eventually(
            lambda: _delivered(receiver, acked),
            timeout=120,
            what="every last version delivered to the subscriber",
        )
        assert len(acked) == 30
        assert _settled(replicated.redis_url)


def _post(pipeline: Pipeline, doc: dict[str, Any], prefer: int) -> dict[str, int]:
    """Post to one ingest replica, the other if it is gone; {uri: version} when accepted."""
    for replica in (prefer, 1 - prefer):
        try:
            resp = httpx.post(
                f"{_url(pipeline, 'ingest', replica)}/v1/articles", json=doc, timeout=10
            )
        except httpx.TransportError:
            continue
        return {doc["uri"]: doc["version"]} if resp.status_code == 202 else {}
    return {}


def _delivered(receiver: Receiver, acked: dict[str, int]) -> bool:
    got: dict[str, int] = {}
    for body in list(receiver.received):
        data = json.loads(body).get("data", {})
        got[data.get("uri")] = max(got.get(data.get("uri"), 0), int(data.get("version", 0)))
    return all(got.get(uri) == version for uri, version in acked.items())
