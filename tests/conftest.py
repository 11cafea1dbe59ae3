"""Fixtures shared by every tier: seed fixtures and a real, private Redis server."""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
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
def private_pipeline(
    redis_server: RedisServer, tmp_path: Path, *, without: tuple[str, ...] = ()
) -> Iterator[Pipeline]:
    """Every service (but `without`) on free loopback ports against the test's own Redis,
    stopped and its Redis data flushed afterwards."""
    from galley.redis_server import free_port
    from galley.supervisor import SERVICES

    ports = {name: free_port() for name in SERVICES if name not in without}
    try:
        with running(
            Pipeline(tmp_path / "data", redis_url=redis_server.url, redis_port=0, services=ports)
        ) as started:
            yield started
    finally:
        import redis as sync_redis

        sync_redis.Redis.from_url(redis_server.url).flushdb()


@contextmanager
def running(pipeline: Pipeline, *, timeout: float = 60.0) -> Iterator[Pipeline]:
    """Start the pipeline's processes, fail with their log tails if they never become
    healthy, and stop them afterwards."""
    pipeline.start()
    try:
        if not pipeline.wait_healthy(timeout=timeout):
            logs = {
                p.label: p.log_path.read_text()[-3000:]
                for p in pipeline.procs
                if p.log_path.exists()
            }
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


# No test here runs longer than a couple of minutes; one still running after this is hung.
HANG_S = float(os.environ.get("GALLEY_TEST_HANG_S", "600"))


class Hung(Exception):
    """A test ran past HANG_S; the message says where every task and thread waited."""


@pytest.fixture(autouse=True)
def _hang_report() -> Iterator[None]:
    """A hung test (an await that never ends) would stall CI without a word. After HANG_S
    seconds SIGALRM raises `Hung` in the test, with every asyncio task's and thread's
    stack in its message, so the test fails with something to read and the run goes on."""

    def hung(_signum: int, _frame: Any) -> None:
        raise Hung(f"still running after {HANG_S:.0f} s\n{_waits()}")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _waits() -> str:
    import asyncio
    import gc
    import io

    out = io.StringIO()
    out.write("asyncio tasks:\n")
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Task) and not obj.done():
            obj.print_stack(file=out)
    out.write("threads:\n")
    for ident, frame in sys._current_frames().items():
        out.write(f"--- thread {ident}\n")
        traceback.print_stack(frame, file=out)
    return out.getvalue()
