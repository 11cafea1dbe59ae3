"""Fixtures shared by every tier: seed fixtures and a real, private Redis server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from galley.redis_server import RedisServer
from galley.supervisor import Pipeline

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.fixture
def seed_article() -> dict[str, Any]:
    return load_fixture("article.json")


@pytest.fixture
def seed_author() -> dict[str, Any]:
    return load_fixture("author-martin-fornusek.json")


@pytest.fixture
def seed_related() -> dict[str, Any]:
    return load_fixture("related-pow.json")


@pytest.fixture
def seed_budget() -> dict[str, Any]:
    return load_fixture("feed-budget.json")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, for this test session only."""
    server = RedisServer(tmp_path_factory.mktemp("redis"), appendonly=False).start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """A client on the private server, flushed after each test (the server is ours)."""
    client = aioredis.from_url(redis_server.url)
    yield client
    await client.flushdb()
    await client.aclose()


@contextmanager
def running(pipeline: Pipeline, *, timeout: float = 60.0) -> Iterator[Pipeline]:
    """Start the pipeline's processes, fail with their log tails if they never become
    healthy, and stop them afterwards."""
    pipeline.start()
    try:
        if not pipeline.wait_healthy(timeout=timeout):
            logs = {p.label: p.log_path.read_text()[-3000:] for p in pipeline.procs
                    if p.log_path.exists()}
            pytest.fail(f"services did not become healthy: {logs}")
        yield pipeline
    finally:
        pipeline.stop()


LOG_TAIL = 20_000  # characters of each service's log attached to a failing test's report


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A test that ran the pipeline as processes and failed gets each service's log
    tail in its report, so a failure seen only in CI can still be read."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, Pipeline):
            for proc in value.procs:
                if proc.log_path.exists():
                    text = proc.log_path.read_text(errors="replace")[-LOG_TAIL:]
                    report.sections.append((f"log of {proc.label}", text))
