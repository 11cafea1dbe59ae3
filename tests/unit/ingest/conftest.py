"""Ingest unit fixtures: the HTTP app on an in-memory store, a hand-driven clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from services.ingest.app import create_app
from services.ingest.settings import Settings
from services.ingest.store import IngestStore

KEYS = "superdesk:sd-key,arc:arc-key"
SUPERDESK = {"Authorization": "Bearer sd-key"}
ARC = {"Authorization": "Bearer arc-key"}


class Clock:
    """Wall clock and monotonic clock that move only when a test says so."""

    def __init__(self, start: datetime) -> None:
        self.at = start
        self.ticks = 0.0

    def __call__(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.ticks

    def advance(self, **delta: float) -> None:
        step = timedelta(**delta)
        self.at += step
        self.ticks += step.total_seconds()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 2, 4, 8, 0, tzinfo=UTC))


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[IngestStore]:
    s = await IngestStore.open(tmp_path / "ingest.db")
    yield s
    await s.close()


AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(store: IngestStore, clock: Clock, tmp_path: Path) -> AppFactory:
    """An ingest app whose store is already open (the lifespan, with Redis, is not run)."""

    def build(**overrides: Any) -> FastAPI:
        settings = Settings(
            data_dir=tmp_path, api_keys=overrides.pop("api_keys", KEYS), **overrides
        )
        app = create_app(settings, now=clock, monotonic=clock.monotonic)
        app.state.store = store
        return app

    return build


def client_for(app: FastAPI, client: tuple[str, int] = ("127.0.0.1", 5000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://ingest.test")


@pytest_asyncio.fixture
async def client(make_app: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app()) as c:
        yield c


async def queued(store: IngestStore, stream: str | None = None) -> list[dict[str, Any]]:
    """Events waiting in the outbox, as entry fields with `data` decoded."""
    rows = await store.db.fetchall("SELECT stream, fields FROM outbox ORDER BY seq")
    out = []
    for row in rows:
        if stream is None or row["stream"] == stream:
            fields = json.loads(row["fields"])
            out.append({**fields, "stream": row["stream"], "data": json.loads(fields["data"])})
    return out
