"""Headless Chromium on the ops page while the whole pipeline runs: picture and trace."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from galley.supervisor import Pipeline
from tests.browser.conftest import ARTIFACTS, ROOT, free_port
from tests.conftest import load_fixture
from tests.e2e.conftest import base_url, eventually, pipeline  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def ops_page(pipeline: Pipeline, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": pipeline.redis_url,
        **{f"{p.name.upper()}_PORT": str(p.port) for p in pipeline.procs},
    }
    log = tmp_path / "ops-page.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "galley.opsweb",
                "--port",
                str(port),
                "--data-dir",
                str(pipeline.data_dir),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: _up(url), timeout=20, what=f"the ops page ({log})")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/live", timeout=1).status_code == 204
    except httpx.HTTPError:
        return False


def _settled(url: str, uri: str) -> bool:
    view = httpx.get(f"{url}/api/overview", timeout=5).json()
    idle = all(
        g["pending"] == 0 and not g["lag"] for s in view["streams"].values() for g in s["groups"]
    )
    return idle and any(a["uri"] == uri for a in view["recent"])


def _feed(running: Pipeline) -> dict[str, Any]:
    ingest = base_url(running, "ingest")
    httpx.post(f"{ingest}/v1/authors", json=load_fixture("author-martin-fornusek.json"), timeout=10)
    for name in ("related-pow", "feed-budget", "article"):
        resp = httpx.post(f"{ingest}/v1/articles", json=load_fixture(f"{name}.json"), timeout=10)
        assert resp.status_code == 202, resp.text
    return load_fixture("article.json")


async def test_the_ops_page_shows_the_pipeline_and_traces_the_seed_article(
    pipeline: Pipeline,  # noqa: F811
    ops_page: str,
    browser: Any,
) -> None:
    article = _feed(pipeline)
    headline = article["headlines"][0]["value"]
    eventually(
        lambda: _settled(ops_page, article["uri"]),
        what="the seed article among recent articles, nothing pending",
    )
    page = await browser.new_page(viewport={"width": 1280, "height": 900})

    await page.goto(f"{ops_page}/")

    assert await page.locator("svg g.node").count() == 5
    assert await page.locator('g.edge[data-stream="articles.published"]').count() == 1
    assert await page.get_by_text(headline).count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "ops-page.png"), full_page=True)

    await page.locator("tr", has_text=headline).get_by_role("link", name="trace").click()
    await page.wait_for_url("**/trace?uri=*")
    trace = page.locator("table.trace")
    for hop in ("accepted at ingest", "enriched", "published"):
        assert await trace.get_by_text(hop, exact=True).count() >= 1
    await page.screenshot(path=str(ARTIFACTS / "ops-trace.png"), full_page=True)
    await page.close()
