"""Headless Chromium on the news feed: summaries, thumbnails and "Show More", on the front
page and in the article page's "News Feed" sidebar; an avatar that fails to load."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from markupsafe import escape

from shared import names
from shared.models import AuthorCard
from tests.browser.conftest import ARTIFACTS, Service
from tests.browser.seeding import seed_site
from tests.unit.publish.factories import enriched_event, simple_story

pytestmark = pytest.mark.browser

PAGE_SIZE = 10  # the service's default PUBLISH_PAGE_SIZE
SIDEBAR_SIZE = 6


async def _loopback_only(route: Any) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "data:")):
        await route.continue_()
    else:
        await route.abort()


async def _reader(browser: Any, **options: Any) -> tuple[Any, Any, list[str]]:
    """A browser context that reaches loopback only, a page, and its console errors."""
    context = await browser.new_context(**options)
    await context.route("**/*", _loopback_only)
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


async def _titles(items: Any) -> list[str]:
    return [t.strip() for t in await items.locator(".story-title").all_inner_texts()]


async def _loaded(image: Any) -> bool:
    return bool(await image.evaluate("img => img.complete && img.naturalWidth > 0"))


async def test_the_front_page_shows_summaries_and_thumbnails_and_show_more_appends_the_next_page(
    redis: Any, publish_service: Service, browser: Any
) -> None:
    seeded = await seed_site(redis, publish_service.url)
    newest_first = sorted(seeded.stories, key=_published, reverse=True)
    context, page, errors = await _reader(browser, viewport={"width": 1280, "height": 900})

    await page.goto(publish_service.url + "/")
    items = page.locator("#feed-list > li")
    assert await items.count() == PAGE_SIZE
    assert await _titles(items) == [s.headline for s in newest_first[:PAGE_SIZE]]
    for n in range(PAGE_SIZE):
        item = items.nth(n)
        story = newest_first[n]
        assert (await item.locator(".kicker").inner_text()).lower() == story.subjects[0].lower()
        summary = await item.locator(".story-summary").inner_text()
        assert summary and summary[:40] in " ".join(story.body_text.split())
        assert await item.locator("time").get_attribute("datetime")
        thumb = item.locator("img.story-thumb")
        assert await thumb.get_attribute("src") == story.lead_image.href
        assert await thumb.get_attribute("alt") == ""  # decorative: the title is beside it
    assert await _loaded(items.nth(0).locator("img.story-thumb"))  # the first ones load eagerly
    # the list uses the width of a wide screen: two columns of stories
    first, second = await items.nth(0).bounding_box(), await items.nth(1).bounding_box()
    assert second["x"] > first["x"] + first["width"] and first["width"] > 400
    await page.screenshot(path=str(ARTIFACTS / "feed-page.png"), full_page=True)

    # "Show More" is a link to the next page (it works without script) ...
    more = page.get_by_role("link", name="Show More")
    href = await more.get_attribute("href")
    assert href.startswith("/?after=")
    async with httpx.AsyncClient(base_url=publish_service.url) as client:
        plain = (await client.get(href)).text
    assert str(escape(newest_first[PAGE_SIZE].headline)) in plain
    # ... that the script follows in place: the next page's stories appended, no duplicate
    await more.click()
    await items.nth(PAGE_SIZE).wait_for()
    assert await _titles(items) == [s.headline for s in newest_first]
    assert page.url.rstrip("/") == publish_service.url
    assert await page.get_by_role("link", name="Show More").count() == 0
    last = items.nth(len(newest_first) - 1)
    await last.scroll_into_view_if_needed()
    assert await last.locator(".story-summary").inner_text()
    await last.locator("img.story-thumb").wait_for()
    assert errors == []
    await context.close()


async def test_the_article_sidebar_shows_summaries_and_thumbnails_and_show_more_goes_on_from_it(
    redis: Any, publish_service: Service, browser: Any
) -> None:
    seeded = await seed_site(redis, publish_service.url)
    others = [
        s for s in sorted(seeded.stories, key=_published, reverse=True) if s is not seeded.article
    ]
    context, page, errors = await _reader(browser, viewport={"width": 1280, "height": 900})

    await page.goto(f"{publish_service.url}/articles/{seeded.article.slug}")
    sidebar = page.locator(".sidebar")
    items = sidebar.locator("#sidebar-list > li")
    assert await _titles(items) == [s.headline for s in others[:SIDEBAR_SIZE]]
    assert await sidebar.locator("h3.story-title").count() == SIDEBAR_SIZE  # under its h2
    for n in range(SIDEBAR_SIZE):
        item = items.nth(n)
        assert await item.locator(".kicker").inner_text()
        assert await item.locator(".story-summary").inner_text()
        assert await item.locator("time").inner_text()
        thumb = item.locator("img.story-thumb")
        assert await thumb.get_attribute("src") == others[n].lead_image.href
    await items.nth(0).scroll_into_view_if_needed()
    assert await _loaded(items.nth(0).locator("img.story-thumb"))

    # the sidebar's "Show More" leads to the stories after the last one it shows
    more = sidebar.get_by_role("link", name="Show More")
    href = await more.get_attribute("href")
    assert href.startswith("/?after=")
    plain = await context.new_page()
    await plain.goto(publish_service.url + href)
    following = await _titles(plain.locator("#feed-list > li"))
    assert following == [s.headline for s in others[SIDEBAR_SIZE:]]
    await plain.close()

    # with script, it appends them to the sidebar in place
    await more.click()
    await items.nth(SIDEBAR_SIZE).wait_for()
    assert await _titles(items) == [s.headline for s in others]
    assert await sidebar.locator("h3.story-title").count() == len(others)
    assert await sidebar.get_by_role("link", name="Show More").count() == 0
    assert page.url.endswith(f"/articles/{seeded.article.slug}")
    await page.screenshot(path=str(ARTIFACTS / "article-sidebar-after-show-more.png"))
    assert errors == []
    await context.close()


async def test_on_a_phone_the_feed_fits_and_no_date_wraps(
    redis: Any, publish_service: Service, browser: Any
) -> None:
    await seed_site(redis, publish_service.url)
    context, page, errors = await _reader(
        browser, viewport={"width": 360, "height": 780}, device_scale_factor=2, is_mobile=True
    )
    for path in ("/", "/authors/martin-fornusek"):
        await page.goto(publish_service.url + path)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        times = page.locator(".story-meta time")
        assert await times.count() > 0
        for n in range(await times.count()):
            box = await times.nth(n).bounding_box()
            line = await times.nth(n).evaluate("t => parseFloat(getComputedStyle(t).lineHeight)")
            assert box["height"] < 1.5 * line, await times.nth(n).inner_text()  # one line
    await page.screenshot(path=str(ARTIFACTS / "feed-page-phone.png"), full_page=True)
    assert errors == []
    await context.close()


async def test_an_avatar_that_fails_to_load_shows_the_authors_initials(
    redis: Any, publish_service: Service, browser: Any
) -> None:
    broken = AuthorCard(
        name="Martin Fornusek", slug="broken", url="/authors/broken", avatar_url="/media/none.jpg"
    )
    bare = AuthorCard(name="Martin Fornusek", slug="bare", url="/authors/bare")
    story = simple_story(1, authors=[broken, bare])
    await redis.xadd(names.ARTICLES_ENRICHED, enriched_event(story).to_fields())
    await _until_served(publish_service.url, f"/articles/{story.slug}")
    context, page, _ = await _reader(browser, viewport={"width": 1280, "height": 900})

    await page.goto(f"{publish_service.url}/articles/{story.slug}")
    failed, initials_only = page.locator(".avatar").nth(0), page.locator(".avatar").nth(1)
    image = failed.locator("img")
    assert await image.get_attribute("alt") == ""
    assert not await _loaded(image)
    assert await failed.locator(".avatar-initials").inner_text() == "MF"
    # the failed picture shows nothing of its own: the avatar looks like one with none
    # the failed picture shows nothing of its own: inside its round edge, the avatar
    # looks like one without a picture
    assert await _inside(page, failed) == await _inside(page, initials_only)
    await failed.screenshot(path=str(ARTIFACTS / "avatar-fallback.png"))
    await context.close()


async def _inside(page: Any, element: Any, inset: int = 12) -> bytes:
    """A picture of the square inside an element's circle (its edge is drawn differently
    over a failed picture, by a fraction of a pixel)."""
    box = await element.bounding_box()
    clip = {
        "x": box["x"] + inset,
        "y": box["y"] + inset,
        "width": box["width"] - 2 * inset,
        "height": box["height"] - 2 * inset,
    }
    shot: bytes = await page.screenshot(clip=clip)
    return shot


def _published(story: Any) -> Any:
    return story.firstcreated


async def _until_served(site: str, path: str) -> None:
    async with httpx.AsyncClient(base_url=site) as client:
        for _ in range(300):
            if (await client.get(path)).status_code == 200:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never appeared")
