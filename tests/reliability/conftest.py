"""A pipeline started with test-only knobs: short claim idle, few deliveries, one failing uri."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from galley.redis_server import RedisServer
from galley.supervisor import Pipeline
from tests.conftest import private_pipeline

FAILING_URI = "urn:galley:test:always-fails"


@pytest.fixture
def poisoned_pipeline(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    monkeypatch.setenv("GALLEY_CHAOS_FAIL_SUBJECTS", FAILING_URI)
    monkeypatch.setenv("GALLEY_CLAIM_IDLE_MS", "300")
    monkeypatch.setenv("GALLEY_MAX_DELIVERIES", "2")
    monkeypatch.setenv("ENRICHMENT_CLAIM_IDLE_MS", "300")
    monkeypatch.setenv("ENRICHMENT_MAX_DELIVERIES", "2")
    with private_pipeline(redis_server, tmp_path, without=("webhooks",)) as started:
        yield started
