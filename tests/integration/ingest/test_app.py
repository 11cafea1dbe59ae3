"""The running service: startup warning, health routes, HTTP post to Redis event."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from services.ingest.settings import Settings
from shared import names
from shared.envelope import from_fields
from tests.integration.ingest.helpers import running, wait_for

pytestmark = pytest.mark.integration


async def test_the_service_says_at_startup_that_only_loopback_may_post_without_keys(
    redis_server: Any, redis: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path, redis_url=redis_server.url, api_keys="")
    with caplog.at_level(logging.WARNING, logger="galley.ingest"):
        async with running(settings):
            pass
    assert any("only loopback clients may post" in r.getMessage() for r in caplog.records)


async def test_a_posted_article_reaches_the_ingested_stream_as_plain_fields(
    redis_server: Any, redis: Any, tmp_path: Path, seed_article: dict
) -> None:
    settings = Settings(data_dir=tmp_path, redis_url=redis_server.url, api_keys="")
    async with running(settings) as (_app, client):
        assert (await client.get("/health/live")).status_code == 204
        assert (await client.get("/health/ready")).status_code == 204
        assert (await client.post("/v1/articles", json=seed_article)).status_code == 202

        async def arrived() -> bool:
            return bool(await redis.xlen(names.ARTICLES_INGESTED) == 1)

        await wait_for(arrived)
    [(_id, fields)] = await redis.xrange(names.ARTICLES_INGESTED)
    event = from_fields(fields)
    assert (event.type, event.subject) == (names.ARTICLE_INGESTED, seed_article["uri"])
    assert event.data["reading_minutes"] == 2
    assert (tmp_path / "ingest.db").exists()
