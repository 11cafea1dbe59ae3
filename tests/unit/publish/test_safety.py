"""Publish shows nothing unsafe even when its input stream skipped ingest (issue 17, case 8)."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import httpx

from services.publish.handlers import article_handler
from services.publish.safety import safe_article
from services.publish.store import Store
from shared.models import AuthorCard, Image, Media, RelatedLink, Rendition
from tests.unit.publish.factories import Clock, enriched_event, simple_story

HOSTILE_BODY = (
    "<p>before</p><script>alert(1)</script><img src=x onerror=alert(1)>"
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>'
    '<a href="javascript:alert(1)">a</a><blockquote cite="javascript:alert(2)">q</blockquote>'
    '<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>'
)
EXECUTABLE = re.compile(
    r"<script(?![^>]*application/ld\+json)|\son\w+=|javascript:|srcdoc|data:t", re.I
)


def hostile_story() -> object:
    return simple_story(
        1,
        headline="Council\x01 votes\x0b today",
        body_html=HOSTILE_BODY,
        lead_image=Image(href="javascript:alert(3)", caption="c"),
        media=None,
        authors=[
            AuthorCard(name="A", avatar_url="http://img.example/a.jpg", url="javascript:alert(4)")
        ],
        related=[RelatedLink(uri="u", slug="s", headline="h", url="javascript:alert(5)")],
    )


def test_a_story_that_skipped_ingest_is_sanitized_with_ingests_allowlist() -> None:
    safe = safe_article(hostile_story())  # type: ignore[arg-type]
    assert safe.body_html.startswith("<p>before</p>")
    assert EXECUTABLE.search(safe.body_html) is None, safe.body_html
    assert safe.headline == "Council votes today"
    assert safe.lead_image is None
    assert safe.authors[0].url is None
    assert safe.authors[0].avatar_url == "https://img.example/a.jpg"  # the CSP allows https:
    assert safe.related == []


def test_a_media_item_keeps_only_renditions_a_page_may_load() -> None:
    story = simple_story(
        2,
        type="picture",
        media=Media(
            type="picture",
            renditions=[
                Rendition(href="javascript:x"),
                Rendition(href="http://img.example/p.jpg"),
                Rendition(href="/media/p-1"),
            ],
        ),
    )
    media = safe_article(story).media
    assert media is not None
    assert [r.href for r in media.renditions] == ["https://img.example/p.jpg", "/media/p-1"]


async def test_a_hostile_entry_on_the_input_stream_puts_nothing_executable_on_the_page(
    store: Store, clock: Clock, client: httpx.AsyncClient
) -> None:
    handle = article_handler(lambda: store, clock, lambda: None)
    await handle(enriched_event(hostile_story()))  # type: ignore[arg-type]
    page = (await client.get("/articles/story-number-1")).text
    assert "before" in page
    assert EXECUTABLE.search(page) is None
    for feed in ("/feeds/rss.xml", "/feeds/atom.xml"):
        ElementTree.fromstring((await client.get(feed)).content)  # well-formed XML
