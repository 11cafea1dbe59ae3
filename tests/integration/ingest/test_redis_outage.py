"""Accepted means delivered: 202s keep coming while Redis is down, and all arrive later."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from galley.redis_server import RedisServer
from services.ingest.settings import Settings
from shared import names
from shared.envelope import from_fields
from tests.integration.ingest.helpers import KEY, running, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis this test may stop and restart (append-only, so groups survive)."""
    server = RedisServer(tmp_path / "redis", appendonly=True).start()
    yield server
    server.stop()


async def stream_length(url: str, stream: str) -> int:
    client = aioredis.from_url(url)
    try:
        return int(await client.xlen(stream))
    except (ConnectionError, OSError, aioredis.ConnectionError):
        return -1
    finally:
        await client.aclose()


async def test_posts_get_202_while_redis_is_down_and_every_one_arrives_once_it_is_back(
    own_redis: RedisServer, tmp_path: Path, seed_article: dict
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        redis_url=own_redis.url,
        api_keys="sd:it-key",
        relay_max_backoff=0.5,
    )

    def version(n: int) -> dict[str, Any]:
        return copy.deepcopy(seed_article) | {"version": str(n)}

    async def ingested(count: int) -> bool:
        return await stream_length(own_redis.url, names.ARTICLES_INGESTED) == count

    async with running(settings) as (app, client):
        # Redis up: the first version goes straight through.
        assert (await client.post("/v1/articles", json=version(1), headers=KEY)).status_code == 202
        await wait_for(lambda: ingested(1))

        # Redis down: posts are still accepted, into the outbox.
        own_redis.stop()
        for n in (2, 3, 4):
            response = await client.post("/v1/articles", json=version(n), headers=KEY)
            assert response.status_code == 202, response.text

        async def relay_saw_the_outage() -> bool:
            return bool(app.state.relay.failures > 0)

        await wait_for(relay_saw_the_outage)

        # Redis back on the same port: the relay delivers every accepted version, in order.
        own_redis.start()
        await wait_for(lambda: ingested(4), timeout=30)

    client_r = aioredis.from_url(own_redis.url)
    entries = await client_r.xrange(names.ARTICLES_INGESTED)
    await client_r.aclose()
    assert [from_fields(f).data["version"] for _id, f in entries] == [1, 2, 3, 4]
