"""Publish counts the events it handles, as every consumer does (the service builder
wraps every handler)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared import names
from tests.integration.publish.test_publish_service import running
from tests.polling import eventually
from tests.unit.publish.factories import enriched_event, simple_story

pytestmark = pytest.mark.integration


async def handled(client: httpx.AsyncClient, event_type: str) -> float:
    text = (await client.get("/metrics")).text
    found = re.search(
        rf'^galley_events_handled_total{{type="{re.escape(event_type)}"}} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else 0.0


async def test_publish_counts_each_enriched_article_it_handles(
    redis_server: Any, redis: Any, tmp_path: Path
) -> None:
    async with running(redis_server.url, tmp_path, lambda: datetime.now(UTC)) as client:
        before = await handled(client, names.ARTICLE_ENRICHED)
        for n in (1, 2):
            await redis.xadd(names.ARTICLES_ENRICHED, enriched_event(simple_story(n)).to_fields())

        async def counted() -> bool:
            return await handled(client, names.ARTICLE_ENRICHED) == before + 2

        await eventually(counted)
