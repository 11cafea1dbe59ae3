"""The webhooks service running in-process against the real test Redis and a SQLite file."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from services.webhooks.app import create_app
from services.webhooks.settings import Settings
from shared import names
from shared.envelope import Envelope
from tests.integration.webhooks.receiver import Receiver
from tests.polling import eventually
from tests.serving import serving

FAST_SCHEDULE = "0.05,0.1,0.2"


@dataclass
class Harness:
    app: FastAPI
    http: httpx.AsyncClient
    redis: Any

    async def subscribe(self, url: str, **body: Any) -> dict[str, Any]:
        response = await self.http.post("/v1/subscriptions", json={"url": url, **body})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def publish(self, event: Envelope[Any]) -> None:
        await self.redis.xadd(names.ARTICLES_PUBLISHED, event.to_fields())

    async def log(self, sub_id: str) -> list[dict[str, Any]]:
        response = await self.http.get(f"/v1/subscriptions/{sub_id}/deliveries")
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()
        return entries

    async def settled(self, sub_id: str, count: int) -> list[dict[str, Any]]:
        """The log once `count` deliveries exist and none is pending any more."""

        async def done() -> list[dict[str, Any]] | None:
            entries = await self.log(sub_id)
            if len(entries) == count and all(e["state"] != "pending" for e in entries):
                return entries
            return None

        result: list[dict[str, Any]] = await eventually(done)
        return result


def settings_for(redis_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "data_dir": data_dir,
        "allow_loopback": True,
        "retry_schedule": FAST_SCHEDULE,
        "poll_interval": 0.02,
        "timeout": 5.0,
        **overrides,
    }
    return Settings(**values)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()


Start = Callable[..., Awaitable[Harness]]


@pytest_asyncio.fixture
async def start_webhooks(redis_server: Any, redis: Any, tmp_path: Path) -> AsyncIterator[Start]:
    """Start the service with setting overrides and create_app keywords (resolver, transport)."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(*, wiring: dict[str, Any] | None = None, **overrides: Any) -> Harness:
            app = create_app(
                settings_for(redis_server.url, tmp_path, **overrides), **(wiring or {})
            )
            await stack.enter_async_context(serving(app))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://webhooks"
                )
            )
            return Harness(app, http, redis)

        yield start


@pytest_asyncio.fixture
async def webhooks(start_webhooks: Start) -> Harness:
    return await start_webhooks()


pytestmark = pytest.mark.integration
