"""Every service started the way FastStream and uvicorn start an app, not by galley's own
launcher: `faststream run services.<name>:app` (ingest, enrichment, webhooks) and
`uvicorn services.publish:app`, each a process against the test's Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from galley.redis_server import RedisServer, free_port
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def command(service: str, port: int) -> list[str]:
    if service == "publish":
        return [str(BIN / "uvicorn"), "services.publish:app", "--port", str(port)]
    return [str(BIN / "faststream"), "run", f"services.{service}:app", "--port", str(port)]


@pytest.fixture
def services(redis_server: RedisServer, tmp_path: Path) -> Iterator[dict[str, int]]:
    ports = {name: free_port() for name in ("ingest", "enrichment", "publish", "webhooks")}
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "GALLEY_DATA_DIR": str(tmp_path / "data"),
        "PUBLISH_BASE_URL": f"http://127.0.0.1:{ports['publish']}",
    }
    procs: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    try:
        for name, port in ports.items():
            log = tmp_path / f"{name}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    command(name, port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                )
            procs.append((name, proc, log))
        for name, proc, log in procs:
            deadline = time.monotonic() + 60
            while not _ready(ports[name]):
                assert proc.poll() is None, f"{name} exited: {log.read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"{name} never ready: {log.read_text()[-3000:]}"
                time.sleep(0.1)
        yield ports
    finally:
        for _name, proc, _log in procs:
            proc.terminate()
        for _name, proc, _log in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        import redis as sync_redis

        sync_redis.Redis.from_url(redis_server.url).flushdb()


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 204
    except httpx.HTTPError:
        return False


def test_the_seed_article_goes_live_through_services_started_by_faststream_and_uvicorn(
    services: dict[str, int],
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
) -> None:
    ingest = f"http://127.0.0.1:{services['ingest']}"
    assert httpx.post(f"{ingest}/v1/authors", json=seed_author, timeout=10).status_code in (
        200,
        201,
        202,
    )
    answer = httpx.post(f"{ingest}/v1/articles", json=seed_article, timeout=10)
    assert answer.status_code == 202, answer.text
    page_url = f"http://127.0.0.1:{services['publish']}{answer.json()['path']}"

    page = eventually(
        lambda: (r := httpx.get(page_url, timeout=5)).status_code == 200 and r.text,
        what="the article page",
    )
    assert "2 min read" in page and "Martin Fornusek" in page
    # webhooks, started by `faststream run`, reads articles.published as its group
    webhooks = f"http://127.0.0.1:{services['webhooks']}"
    metrics = eventually(
        lambda: (
            'galley_events_handled_total{type="article.published"}'
            in (text := httpx.get(f"{webhooks}/metrics", timeout=5).text)
            and text
        ),
        what="webhooks handling article.published",
    )
    assert "galley_events_handled_total" in metrics
