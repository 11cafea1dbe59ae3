"""The reader-facing pages over ASGI with a real SQLite store."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import httpx

from services.publish import domain
from services.publish.store import Store
from tests.unit.publish.conftest import BASE_URL, Publisher
from tests.unit.publish.factories import (
    Clock,
    enriched_from_ninjs,
    related_link,
    seed_story,
    simple_story,
)


class Text(HTMLParser):
    """Visible text of a page (script and style contents left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split())


async def publish_seed(
    publish: Publisher,
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
    **changes: Any,
) -> Any:
    pow_story = seed_story(seed_related, seed_author, seed_related, related=[])
    await publish(pow_story)
    article = seed_story(seed_article, seed_author, seed_related, **changes)
    await publish(article)
    return article


async def test_the_article_page_shows_everything_the_reference_page_shows(
    client: httpx.AsyncClient,
    publish: Publisher,
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
) -> None:
    article = await publish_seed(publish, seed_article, seed_author, seed_related)
    await publish(
        enriched_from_ninjs(
            seed_article
            | {
                "uri": "urn:other",
                "headlines": [{"role": "main", "value": "Ukraine's draft budget foresees deficit"}],
            }
        )
    )

    response = await client.get(f"/articles/{article.slug}")

    assert response.status_code == 200
    text = Text.of(response.text)
    assert article.headline in text
    assert "2 min read" in text
    assert article.lead_image.caption in text
    assert "Ed Jones/AFP via Getty Images" in text
    for paragraph in re.findall(r"<p>(.*?)</p>", article.body_html):
        assert Text.of(paragraph) in text
    assert "Martin Fornusek" in text and "Reporter" in text
    assert seed_author["bio"] in text
    assert 'href="/authors/martin-fornusek"' in response.text and "Read more" in text
    assert seed_author["avatar_url"] in response.text
    assert "How Ukraine captured a North Korean POW" in text
    assert "News Feed" in text and "Ukraine's draft budget foresees deficit" in text


async def test_the_article_page_carries_canonical_social_meta_and_news_article_json_ld(
    client: httpx.AsyncClient,
    publish: Publisher,
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
) -> None:
    article = await publish_seed(publish, seed_article, seed_author, seed_related)
    html = (await client.get(f"/articles/{article.slug}")).text

    canonical = f"{BASE_URL}/articles/{article.slug}"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert f'<meta property="og:url" content="{canonical}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert 'name="viewport"' in html
    block = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    assert block is not None
    doc = json.loads(block.group(1))
    assert doc["@type"] == "NewsArticle"
    assert doc["headline"] == article.headline[:110]
    assert doc["author"][0]["name"] == "Martin Fornusek"


async def test_json_ld_cannot_close_its_script_element(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1, subheadline="</script><script>alert(1)</script>"))
    html = (await client.get("/articles/story-number-1")).text
    block = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    assert block is not None
    assert "alert(1)" in json.loads(block.group(1))["description"]
    assert "<script>alert(1)" not in html


async def test_the_agency_a_byline_credits_is_shown_beside_the_authors_or_alone(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1, credit="dpa", language="de"))
    await publish(simple_story(2, credit="NTB", authors=[], byline="NTB"))
    meta = re.search(
        r'<p class="article-meta[^"]*">(.*?)</p>',
        (await client.get("/articles/story-number-1")).text,
        re.S,
    )
    assert meta is not None and "Desk Writer" in meta.group(1)
    assert re.search(r'<span class="credit-agency">dpa</span>', meta.group(1))
    alone = (await client.get("/articles/story-number-2")).text
    assert '<span class="byline credit-agency">NTB</span>' in alone


async def test_text_fields_are_escaped_and_only_the_body_is_raw_html(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(
        simple_story(
            1,
            headline="<img src=x onerror=alert(1)> Council",
            body_html="<p><em>Sanitized</em> body</p>",
        )
    )
    html = (await client.get("/articles/story-number-1")).text
    assert "<img src=x onerror" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; Council" in html
    assert "<p><em>Sanitized</em> body</p>" in html


async def test_every_page_sends_security_headers_and_runs_no_inline_script(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    for n in range(5):
        await publish(simple_story(n))
    first, second = await client.get("/"), await client.get("/")
    csp = first.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "nonce-" not in csp
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", first.text, re.S)
    assert scripts and all('src="/static/' in attrs and not body for attrs, body in scripts)
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert re.search(r"<[^>]+\son[a-z]+\s*=", first.text) is None  # no inline handlers
    assert first.text == second.text  # nothing per request in a page: its ETag holds


async def test_the_feed_pages_newest_first_without_duplicates_while_stories_keep_arriving(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    for n in range(1, 8):
        await publish(simple_story(n))

    seen: list[str] = []
    page = (await client.get("/")).text
    seen += re.findall(r'href="/articles/(story-number-\d+)"', page)
    more = re.search(r'data-fragment="([^"]+)" href="([^"]+)"', page)
    assert more is not None and more.group(2).startswith("/?after=")
    await publish(simple_story(100))  # published while the reader is on page one
    while more is not None:
        fragment = (await client.get(more.group(1).replace("&amp;", "&"))).text
        seen += re.findall(r'href="/articles/(story-number-\d+)"', fragment)
        more = re.search(r'data-fragment="([^"]+)" href="([^"]+)"', fragment)

    assert seen == [f"story-number-{n}" for n in range(7, 0, -1)]


async def test_the_plain_show_more_link_serves_the_next_page(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    for n in range(1, 5):
        await publish(simple_story(n))
    page = (await client.get("/")).text
    href = re.search(r'class="show-more"[^>]*href="([^"]+)"', page)
    assert href is not None
    second = (await client.get(href.group(1))).text
    assert re.findall(r'href="/articles/(story-number-\d+)"', second) == ["story-number-1"]


async def test_a_cursor_that_was_never_handed_out_is_a_clear_error(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/", params={"after": "garbage!"})
    fragment = await client.get("/feed/more", params={"after": "garbage!"})
    missing = await client.get("/feed/more")
    assert page.status_code == 422 and "Invalid page link" in page.text
    assert fragment.status_code == 422
    assert fragment.headers["content-type"] == "application/problem+json"
    assert missing.status_code == 422 and missing.json()["status"] == 422


async def test_the_author_page_shows_the_latest_card_and_the_authors_articles(
    client: httpx.AsyncClient,
    publish: Publisher,
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
) -> None:
    article = await publish_seed(publish, seed_article, seed_author, seed_related)
    newer_card = article.authors[0].model_copy(update={"bio": "A newer bio."})
    await publish(article.model_copy(update={"enrichment_revision": 1, "authors": [newer_card]}))

    response = await client.get("/authors/martin-fornusek")
    text = Text.of(response.text)
    assert response.status_code == 200
    assert "Martin Fornusek" in text and "Reporter" in text and "A newer bio." in text
    assert article.headline in text
    assert "How Ukraine captured a North Korean POW" in text
    assert (await client.get("/authors/nobody")).status_code == 404


async def test_the_subject_page_lists_live_stories_of_that_subject(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1, subjects=["Kursk Oblast"]))
    await publish(simple_story(2, subjects=["Economy"]))
    response = await client.get("/subjects/kursk-oblast")
    assert response.status_code == 200
    assert "Kursk Oblast" in Text.of(response.text)
    assert re.findall(r'href="/articles/(story-number-\d+)"', response.text) == ["story-number-1"]
    assert (await client.get("/subjects/nothing-here")).status_code == 404


async def test_a_correction_replaces_the_page_and_shows_the_note(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1))
    await publish(
        simple_story(
            1,
            version=2,
            lifecycle="corrected",
            headline="Fixed headline",
            correction="An earlier version misnamed the council.",
        )
    )
    text = Text.of((await client.get("/articles/story-number-1")).text)
    assert "Fixed headline" in text
    assert "Correction: An earlier version misnamed the council." in text


async def test_a_killed_article_answers_410_and_leaves_every_list(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    first = simple_story(1, subjects=["City"])
    await publish(first)
    await publish(simple_story(2, subjects=["City"], related=[related_link(first)]))
    assert "story-number-1" in (await client.get("/articles/story-number-2")).text
    await publish(simple_story(1, version=2, lifecycle="killed"))

    page = await client.get("/articles/story-number-1")
    assert page.status_code == 410
    assert (await client.get("/v1/articles/story-number-1")).status_code == 410
    for path in (
        "/",
        "/subjects/city",
        "/authors/desk-writer",
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/feeds/feed.json",
        "/sitemap-news.xml",
        "/articles/story-number-2",
    ):
        body = (await client.get(path)).text
        assert "story-number-1" not in body, path
        assert "story-number-2" in body, path


async def test_an_embargoed_article_is_invisible_until_released(
    client: httpx.AsyncClient, publish: Publisher, store: Store, clock: Clock
) -> None:
    await publish(simple_story(1, embargoed=clock() + timedelta(minutes=10)))
    assert (await client.get("/articles/story-number-1")).status_code == 404
    assert (await client.get("/v1/articles/story-number-1")).status_code == 404
    for path in ("/", "/feeds/rss.xml", "/sitemap-news.xml", "/authors/desk-writer"):
        assert "story-number-1" not in (await client.get(path)).text
    assert await store.outbox() == []

    clock.advance(minutes=10)
    moment = clock()
    emitted = await store.release_due(lambda s: domain.release(s, moment), moment)
    assert emitted == ["article.published"]
    assert (await client.get("/articles/story-number-1")).status_code == 200
    assert "story-number-1" in (await client.get("/")).text


async def test_unknown_pages_are_404_html_pages(client: httpx.AsyncClient) -> None:
    response = await client.get("/articles/no-such-story")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert (await client.get("/nowhere")).status_code == 404


async def test_show_more_on_a_subject_page_stays_within_the_subject(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    for n in range(1, 8):
        await publish(simple_story(n, subjects=["War"] if n % 2 else ["Budget"]))
    page = (await client.get("/subjects/war")).text
    more = re.search(r'data-fragment="([^"]+)" href="([^"]+)"', page)
    assert more is not None and more.group(2).startswith("/subjects/war?after=")
    fragment = (await client.get(more.group(1).replace("&amp;", "&"))).text
    assert re.findall(r'href="/articles/(story-number-\d+)"', page + fragment) == [
        "story-number-7",
        "story-number-5",
        "story-number-3",
        "story-number-1",
    ]


async def test_a_renamed_article_redirects_from_its_old_slug(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1))
    await publish(simple_story(1, version=2, slug="council-votes-budget"))
    response = await client.get("/articles/story-number-1")
    assert response.status_code == 301
    assert response.headers["location"] == "/articles/council-votes-budget"


async def test_pages_and_feeds_answer_head_requests(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1))
    for path in ("/", "/articles/story-number-1", "/feeds/rss.xml", "/sitemap-news.xml"):
        assert (await client.head(path)).status_code == 200, path
