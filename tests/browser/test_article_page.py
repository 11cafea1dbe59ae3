"""Headless Chromium against the running publish service: what a reader sees."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from shared import names
from tests.browser.conftest import ARTIFACTS, Service
from tests.unit.publish.factories import (
    author_card,
    enriched_event,
    enriched_from_ninjs,
    seed_story,
    simple_story,
)

pytestmark = pytest.mark.browser

PHOTO = """<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800" viewBox="0 0 1200 800">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="#3b4a5a"/><stop offset="1" stop-color="#8a9bab"/>
</linearGradient></defs>
<rect width="1200" height="800" fill="url(#g)"/>
<text x="600" y="410" font-family="sans-serif" font-size="44" fill="#ffffff" text-anchor="middle"
 opacity="0.8">Lead photo (test placeholder)</text></svg>"""
AVATAR = """<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160" viewBox="0 0 160 160">
<rect width="160" height="160" fill="#0b57d0"/>
<text x="80" y="98" font-family="sans-serif" font-size="56" fill="#fff"
 text-anchor="middle">MF</text>
</svg>"""


async def _offline(route: Any) -> None:
    """Only loopback goes out; the seed's image hosts get local placeholders."""
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "http://localhost")):
        await route.continue_()
    elif url.startswith("https://images.example.org/"):
        body = AVATAR if "/authors/" in url else PHOTO
        await route.fulfill(status=200, content_type="image/svg+xml", body=body)
    else:
        await route.abort()


async def feed_the_service(
    redis: Any,
    service: Service,
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
    seed_budget: dict[str, Any],
) -> Any:
    """Enough stories for two feed pages, then the reference article on top."""
    card = author_card(seed_author)
    # older stories of the archive (the feed sorts by each story's own date)
    stories = [
        simple_story(n, firstcreated=datetime(2025, 1, n, 9, 0, tzinfo=UTC)) for n in range(1, 13)
    ]
    stories.append(enriched_from_ninjs(seed_related, authors=[card]))
    stories.append(enriched_from_ninjs(seed_budget))
    article = seed_story(seed_article, seed_author, seed_related)
    stories.append(article)
    for story in stories:
        await redis.xadd(names.ARTICLES_ENRICHED, enriched_event(story).to_fields())
    async with httpx.AsyncClient(base_url=service.url) as client:
        for _ in range(200):
            if (await client.get(f"/articles/{article.slug}")).status_code == 200:
                return article
            await asyncio.sleep(0.05)
    raise AssertionError("the article page never appeared")


async def test_a_reader_sees_the_whole_article_page_and_can_load_more_stories(
    redis: Any,
    publish_service: Service,
    browser: Any,
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
    seed_budget: dict[str, Any],
) -> None:
    article = await feed_the_service(
        redis, publish_service, seed_article, seed_author, seed_related, seed_budget
    )
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.route("**/*", _offline)
    page = await context.new_page()
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )

    # The article page shows everything the reference page shows.
    await page.goto(f"{publish_service.url}/articles/{article.slug}")
    assert await page.locator("h1").inner_text() == article.headline
    assert await page.locator(".reading-time").inner_text() == "2 min read"
    caption = await page.locator("figure.lead-image figcaption").inner_text()
    assert "Members of the Korean People's Army (KPA)" in caption
    assert "Ed Jones/AFP via Getty Images" in caption
    assert await page.locator(".article-body p").count() == 10
    box = page.locator(".author-box")
    assert "Martin Fornusek" in await box.inner_text()
    assert "Reporter" in await box.inner_text()
    assert seed_author["bio"] in await box.inner_text()
    read_more = box.get_by_role("link", name="Read more")
    assert await read_more.get_attribute("href") == "/authors/martin-fornusek"
    related = page.locator(".related a")
    assert "How Ukraine captured a North Korean POW" in await related.first.inner_text()
    assert "Ukraine's draft budget" in await page.locator(".sidebar").inner_text()
    await page.screenshot(path=str(ARTIFACTS / "article-page.png"), full_page=True)

    # "Read more" leads to the author page.
    await read_more.click()
    await page.wait_for_url("**/authors/martin-fornusek")
    assert seed_author["bio"] in await page.locator(".author-profile").inner_text()
    await page.screenshot(path=str(ARTIFACTS / "author-page.png"), full_page=True)

    # The feed: "Show More" appends the next page in place, without duplicates.
    await page.goto(publish_service.url + "/")
    items = page.locator("#feed-list > li")
    assert await items.count() == 10
    await page.get_by_role("link", name="Show More").click()
    # A locator wait, not wait_for_function: the page's CSP forbids the eval that would need.
    await items.nth(10).wait_for()
    titles = await page.locator("#feed-list .story-title").all_inner_texts()
    assert len(titles) == 15 and len(set(titles)) == 15
    assert page.url.rstrip("/") == publish_service.url  # enhanced in place, no navigation
    assert await page.get_by_role("link", name="Show More").count() == 0
    await page.screenshot(path=str(ARTIFACTS / "feed-after-show-more.png"), full_page=True)

    # The same article page on a phone.
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    await phone.route("**/*", _offline)
    mobile = await phone.new_page()
    await mobile.goto(f"{publish_service.url}/articles/{article.slug}")
    width = await mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await mobile.screenshot(path=str(ARTIFACTS / "article-page-mobile.png"), full_page=True)

    assert csp_errors == []
    await phone.close()
    await context.close()
