"""`galley replay --from-start` lists every live story even after articles.published was
trimmed (it keeps GALLEY_PUBLISHED_RETENTION_S): the older ones come from publish."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import redis as sync_redis

from galley.cli import main
from galley.supervisor import Pipeline
from shared import names
from tests.conftest import load_fixture
from tests.e2e.conftest import base_url, eventually

pytestmark = pytest.mark.e2e


def test_replay_lists_stories_the_stream_no_longer_holds_from_publish(
    pipeline: Pipeline, redis_server: Any, capsys: Any
) -> None:
    ingest, publish = base_url(pipeline, "ingest"), base_url(pipeline, "publish")
    uris = []
    for name in ("related-pow", "feed-budget", "article"):
        doc = load_fixture(f"{name}.json")
        assert httpx.post(f"{ingest}/v1/articles", json=doc, timeout=10).status_code == 202
        uris.append(doc["uri"])
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    eventually(lambda: client.xlen(names.ARTICLES_PUBLISHED) >= 3, what="three stories out")

    # As if retention had trimmed all but the newest entry.
    client.xtrim(names.ARTICLES_PUBLISHED, maxlen=1, approximate=False)
    code = main(
        [
            "replay",
            "--redis-url",
            redis_server.url,
            "--from-start",
            "--no-follow",
            "--json",
            "--site-url",
            publish,
        ]
    )
    assert code == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(e["subject"] for e in listed) == sorted(uris)
    assert sum(e["id"].startswith("archive:") for e in listed) == 2  # from publish
    assert all(e["data"]["url"].startswith("/articles/") for e in listed)


def test_without_publish_the_history_is_what_the_stream_holds_and_stderr_says_so(
    redis_server: Any, capsys: Any
) -> None:
    client = sync_redis.Redis.from_url(redis_server.url)
    client.delete(names.ARTICLES_PUBLISHED)
    code = main(
        [
            "replay",
            "--redis-url",
            redis_server.url,
            "--from-start",
            "--no-follow",
            "--site-url",
            "http://127.0.0.1:9",
        ]
    )
    assert code == 0
    assert "cannot ask publish at http://127.0.0.1:9" in capsys.readouterr().err
