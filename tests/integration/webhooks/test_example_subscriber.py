"""The example subscriber in examples/ runs against a real Redis and prints each event once."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from shared import names
from tests.unit.webhooks.factories import event

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "subscriber.py"


async def test_the_example_subscriber_prints_history_and_live_events_once_each(
    redis_server: Any, redis: Any
) -> None:
    published = event(names.ARTICLE_PUBLISHED, "seed-story")
    await redis.xadd(names.ARTICLES_PUBLISHED, published.to_fields())  # before it starts
    await redis.xadd(names.ARTICLES_PUBLISHED, published.to_fields())  # a re-sent duplicate
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        redis_server.url,
        "--max",
        "3",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await redis.xadd(
        names.ARTICLES_PUBLISHED, event(names.ARTICLE_UPDATED, "seed-story", 2).to_fields()
    )
    await redis.xadd(
        names.ARTICLES_PUBLISHED, event(names.ARTICLE_KILLED, "seed-story", 3).to_fields()
    )

    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines() == [
        "UPSERT article.published urn:newsroom:seed-story v1 /articles/seed-story",
        "UPSERT article.updated urn:newsroom:seed-story v2 /articles/seed-story",
        "REMOVE article.killed urn:newsroom:seed-story v3 /articles/seed-story",
    ]
    pending = await redis.xpending(names.ARTICLES_PUBLISHED, "example-subscriber")
    assert pending["pending"] == 0
