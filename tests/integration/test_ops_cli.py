"""`galley status`, `galley dlq` and `galley trace` against a real Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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

    # a dead letter (and no service running) is a problem found: exit code 1, said on stderr
    assert main(["status", "--redis-url", redis_server.url]) == 1
    captured = capsys.readouterr()
    assert "articles.ingested" in captured.out
    assert "dlq.enrichment" in captured.out
    assert "1 dead letter on dlq.enrichment" in captured.err


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
    # entry ids on different streams order only by their millisecond: one apart each
    time.sleep(0.002)
    client.xadd(names.ARTICLES_ENRICHED, event(names.ARTICLE_ENRICHED, 1))
    time.sleep(0.002)
    client.xadd(names.ARTICLES_PUBLISHED, event(names.ARTICLE_PUBLISHED, 1))
    time.sleep(0.002)
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


LONG_CONSUMER = "enrichment-replica-0-on-a-host-with-a-rather-long-name-pid-4242"


def test_status_piped_to_another_program_keeps_every_name_whole(
    client: Any, redis_server: Any
) -> None:
    client.xadd(names.ARTICLES_INGESTED, event(names.ARTICLE_INGESTED, 1))
    client.xgroup_create(names.ARTICLES_INGESTED, names.ENRICHMENT_GROUP, id="0")
    client.xreadgroup(names.ENRICHMENT_GROUP, LONG_CONSUMER, {names.ARTICLES_INGESTED: ">"})
    env = {**os.environ, "REDIS_URL": redis_server.url, "COLUMNS": "40"}  # a narrow terminal

    done = subprocess.run(
        [sys.executable, "-m", "galley.cli", "status"],
        capture_output=True,  # stdout is a pipe, as in `galley status | grep ...`
        text=True,
        env=env,
        timeout=60,
    )

    assert done.returncode == 1, done.stderr  # no service is running here
    words = done.stdout.split()
    for stream in ops.PIPELINE_STREAMS:
        assert stream in words
    row = next(line for line in done.stdout.splitlines() if line.startswith("articles.ingested"))
    assert names.ENRICHMENT_GROUP in row.split() and f"{LONG_CONSUMER} (1)" in row
    assert "…" not in done.stdout and "┃" not in done.stdout  # plain text, nothing cut


def test_status_dlq_list_and_trace_print_json_a_script_can_read(
    client: Any, redis_server: Any, capsys: Any
) -> None:
    client.flushdb()  # the session's Redis: no letter left by another test
    client.xadd(names.ARTICLES_INGESTED, event(names.ARTICLE_INGESTED, 1))
    client.xadd(names.ARTICLES_PUBLISHED, event(names.ARTICLE_PUBLISHED, 1))
    letter = client.xadd(
        "dlq.publish",
        {**event(names.ARTICLE_ENRICHED, 1), "dlq.reason": "boom", "dlq.stream": "x"},
    )
    url = ["--redis-url", redis_server.url]

    assert main(["status", "--json", *url]) == 1
    status = json.loads(capsys.readouterr().out)
    assert status["ok"] is False and status["dead_letters"] == {"dlq.publish": 1}
    assert [s["name"] for s in status["streams"]] == list(ops.PIPELINE_STREAMS)
    assert set(status["services"]) == {"ingest", "enrichment", "publish", "webhooks"}

    assert main(["dlq", "list", "--json", *url]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["entry"], listed["reason"], listed["subject"]) == (letter, "boom", URI)

    assert main(["dlq", "show", letter, *url]) == 0
    assert json.loads(capsys.readouterr().out)["fields"]["dlq.reason"] == "boom"

    assert main(["trace", URI, "--json", *url, "--webhooks-url", "http://127.0.0.1:9"]) == 0
    traced = json.loads(capsys.readouterr().out)
    assert [h["hop"] for h in traced["hops"]] == ["accepted at ingest", "published"]
    assert traced["hops"][1]["since_accepted_ms"] >= 0

    assert main(["trace", "urn:nothing", "--json", *url]) == 1
    assert json.loads(capsys.readouterr().out)["hops"] == []


def test_status_exits_0_when_no_letter_waits_and_every_service_it_asks_is_ready(
    client: Any, redis_server: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.flushdb()  # the session's Redis: no letter left by another test
    server = ReadyServer()
    try:
        for service in ("INGEST", "ENRICHMENT", "PUBLISH", "WEBHOOKS"):
            monkeypatch.setenv(f"{service}_URL", server.url)
        assert main(["status", "--redis-url", redis_server.url]) == 0
        assert capsys.readouterr().err == ""
    finally:
        server.close()


class ReadyServer:
    """A loopback HTTP server that answers every GET with 204, like a ready service."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_dlq_says_what_it_cannot_do_and_exits_1(
    client: Any, redis_server: Any, capsys: Any
) -> None:
    url = ["--redis-url", redis_server.url]
    orphan = client.xadd("dlq.ingest", {"dlq.reason": "no origin recorded"})
    good = client.xadd("dlq.ingest", {**event(names.ARTICLE_INGESTED, 4), "dlq.stream": "s.x"})

    assert main(["dlq", "show", "9-9", *url]) == 1
    assert "no dead letter 9-9" in capsys.readouterr().err

    assert main(["dlq", "retry", "--all", *url]) == 1
    captured = capsys.readouterr()
    assert "1 dead letters put back" in captured.out
    assert f"dead letter {orphan} does not say which stream it came from" in captured.err
    assert [i for i, _ in client.xrange("dlq.ingest")] == [orphan]  # it stays
    assert client.xlen("s.x") == 1 and good not in {i for i, _ in client.xrange("dlq.ingest")}
