"""The whole pipeline as separate processes on a private Redis, for end-to-end tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from galley.redis_server import RedisServer
from galley.supervisor import Pipeline
from tests.conftest import private_pipeline

T = TypeVar("T")


@pytest.fixture
def pipeline(redis_server: RedisServer, tmp_path: Path) -> Iterator[Pipeline]:
    with private_pipeline(redis_server, tmp_path) as started:
        yield started


def base_url(pipeline: Pipeline, service: str) -> str:
    port = next(p.port for p in pipeline.procs if p.name == service)
    return f"http://127.0.0.1:{port}"


def eventually(probe: Callable[[], T | None], *, timeout: float = 30.0, what: str = "") -> T:
    """Poll until probe returns something truthy, or fail after the deadline."""
    import time

    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or probe}: last={last!r}")


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=5)
