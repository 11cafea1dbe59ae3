"""`python -m services.publish` on a port of its own and no PUBLISH_BASE_URL: every
absolute URL names that port."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from galley.redis_server import free_port
from shared import names
from tests.unit.publish.factories import enriched_event, simple_story

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def site(redis_server: Any, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PUBLISH_BASE_URL"}
    env.update(
        {
            "GALLEY_DATA_DIR": str(tmp_path / "data"),
            "REDIS_URL": redis_server.url,
            "PUBLISH_HOST": "127.0.0.1",
            "PUBLISH_PORT": str(port),
        }
    )
    log = tmp_path / "publish.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.publish"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 204:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_without_a_base_url_the_site_names_the_port_it_listens_on(
    redis: Any, site: str
) -> None:
    story = simple_story(1)
    await redis.xadd(names.ARTICLES_ENRICHED, enriched_event(story).to_fields())
    async with httpx.AsyncClient(base_url=site, timeout=5) as client:
        for _ in range(200):
            if (await client.get(f"/articles/{story.slug}")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        page = (await client.get(f"/articles/{story.slug}")).text
        rss = (await client.get("/feeds/rss.xml")).text
        robots = (await client.get("/robots.txt")).text
        sitemap = (await client.get("/sitemaps/articles-1.xml")).text
    assert f'<link rel="canonical" href="{site}/articles/{story.slug}">' in page
    assert f'href="{site}/feeds/rss.xml"' in rss and f"<link>{site}/articles/" in rss
    assert f"Sitemap: {site}/sitemap.xml" in robots
    assert f"<loc>{site}/articles/{story.slug}</loc>" in sitemap
    for text in (page, rss, robots, sitemap):
        for found in re.findall(r"http://127\.0\.0\.1:\d+", text):
            assert found == site
