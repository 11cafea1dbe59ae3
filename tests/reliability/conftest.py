"""A pipeline started with test-only knobs: short claim idle, few deliveries, one failing uri."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from galley.redis_server import RedisServer
from galley.supervisor import Pipeline
from tests.conftest import private_pipeline

FAILING_URI = "urn:galley:test:always-fails"
FAULTS = Path(__file__).parents[1] / "faults"


@pytest.fixture
def poisoned_pipeline(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    # tests/faults/sitecustomize.py makes every handler fail for FAILING_URI
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(FAULTS), os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("GALLEY_TEST_FAIL_SUBJECTS", FAILING_URI)
    monkeypatch.setenv("GALLEY_CLAIM_IDLE_MS", "300")
    monkeypatch.setenv("GALLEY_MAX_DELIVERIES", "2")
    with private_pipeline(redis_server, tmp_path, without=("webhooks",)) as started:
        yield started
