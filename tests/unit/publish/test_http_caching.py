"""Compression, fingerprinted static files with a long lifetime, the favicon, and validators
(ETag, Last-Modified, 304) on pages and feeds."""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime

import httpx

from services.publish.assets import AssetStore
from services.publish.views import STATIC
from tests.unit.publish.conftest import Publisher
from tests.unit.publish.factories import Clock, simple_story, video_item
from tests.unit.publish.test_item_pages import Elements
from tests.unit.publish.test_media_files import pushed

IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}


@dataclass
class Sent:
    status_code: int
    headers: httpx.Headers
    content: bytes


async def raw(client: httpx.AsyncClient, path: str, **headers: str) -> Sent:
    """The answer as sent, without httpx undoing its compression."""
    request = client.build_request("GET", path, headers=headers)
    response = await client.send(request, stream=True)
    body = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return Sent(response.status_code, response.headers, body)


async def test_pages_feeds_json_and_css_are_sent_gzipped_to_a_client_that_takes_gzip(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    for n in range(1, 5):
        await publish(simple_story(n))
    css = Elements.of((await client.get("/")).text).all("link")
    stylesheet = next(a["href"] for a in css if a.get("rel") == "stylesheet")
    for path in (
        "/",
        "/articles/story-number-1",
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/feeds/feed.json",
        "/v1/articles/story-number-1",
        "/sitemaps/articles-1.xml",
        stylesheet,
    ):
        packed = await raw(client, path, **GZIP)
        plain = await raw(client, path, **IDENTITY)
        assert packed.headers.get("content-encoding") == "gzip", path
        assert "accept-encoding" in packed.headers.get("vary", "").lower(), path
        assert gzip.decompress(packed.content) == plain.content, path
        assert len(packed.content) < len(plain.content), path
        assert "content-encoding" not in plain.headers, path


async def test_a_pushed_media_file_is_never_recompressed(
    client: httpx.AsyncClient, publish: Publisher, assets: AssetStore
) -> None:
    content = b"<svg xmlns='http://www.w3.org/2000/svg'>" + b" " * 4000 + b"</svg>"
    await assets.keep(pushed("video-1.mp4", content, mime_type="image/svg+xml"))
    await publish(video_item(1))
    answer = await raw(client, "/media/video-1.mp4", **GZIP)
    assert answer.status_code == 200 and "content-encoding" not in answer.headers
    assert answer.content == content


async def test_static_files_have_fingerprinted_names_and_a_year_of_immutable_cache(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/")).text
    links = Elements.of(html).all("link")
    css = next(a["href"] for a in links if a.get("rel") == "stylesheet")
    icon = next(a["href"] for a in links if a.get("type") == "image/svg+xml")
    script = re.search(r'<script src="([^"]+)"', html)
    assert script is not None
    for href, name in ((css, "site.css"), (icon, "favicon.svg"), (script.group(1), "feed.js")):
        content = (STATIC / name).read_bytes()
        digest = hashlib.sha256(content).hexdigest()[:12]
        stem, suffix = name.rsplit(".", 1)
        assert href == f"/static/{stem}.{digest}.{suffix}"
        answer = await client.get(href)
        assert answer.status_code == 200 and answer.content == content
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert (
            await client.get(href, headers={"If-None-Match": answer.headers["etag"]})
        ).status_code == 304
    # the plain name still answers, asked again every time; an unknown fingerprint does not
    plain = await client.get("/static/site.css")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    assert plain.headers["content-type"].startswith("text/css")
    assert (await client.get("/static/site.0123456789ab.css")).status_code == 404
    assert (await client.get("/static/../settings.py")).status_code == 404


async def test_every_page_links_a_favicon_that_is_served_with_a_cache_lifetime(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1))
    for path in ("/", "/articles/story-number-1", "/authors/desk-writer", "/nowhere"):
        rels = [a.get("rel") for a in Elements.of((await client.get(path)).text).all("link")]
        assert rels.count("icon") == 2, path
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert icon.headers["cache-control"] == "public, max-age=86400"


async def test_pages_and_feeds_answer_304_until_something_they_show_changes(
    client: httpx.AsyncClient, publish: Publisher, clock: Clock
) -> None:
    for n in range(1, 4):
        await publish(simple_story(n))
    paths = (
        "/",
        "/articles/story-number-1",
        "/authors/desk-writer",
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/feeds/feed.json",
        "/sitemap.xml",
        "/v1/articles/story-number-1",
    )
    first = {path: await client.get(path) for path in paths}
    for path, answer in first.items():
        etag, modified = answer.headers["etag"], answer.headers["last-modified"]
        assert etag.startswith('W/"'), path
        assert parsedate_to_datetime(modified) == clock().replace(microsecond=0), path
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", path
        assert again.headers["etag"] == etag
        since = await client.get(path, headers={"If-Modified-Since": modified})
        assert since.status_code == 304, path
        head = await client.head(path, headers={"If-None-Match": etag})
        assert head.status_code == 304, path
        # If-None-Match decides when both are sent: another tag is a full answer
        other = await client.get(
            path, headers={"If-None-Match": 'W/"x"', "If-Modified-Since": modified}
        )
        assert other.status_code == 200, path
        assert (await client.get(path)).content == answer.content, path  # same bytes again

    clock.advance(minutes=5)
    await publish(simple_story(1, version=2, headline="A new headline"))
    for path, answer in first.items():
        fresh = await client.get(path, headers={"If-None-Match": answer.headers["etag"]})
        assert fresh.status_code == 200, path
        assert fresh.headers["etag"] != answer.headers["etag"], path
        later = await client.get(
            path, headers={"If-Modified-Since": answer.headers["last-modified"]}
        )
        assert later.status_code == 200, path
        assert parsedate_to_datetime(fresh.headers["last-modified"]) > parsedate_to_datetime(
            answer.headers["last-modified"]
        )


async def test_a_feed_is_the_same_bytes_until_something_changes(
    client: httpx.AsyncClient, publish: Publisher, clock: Clock
) -> None:
    await publish(simple_story(1))
    changed = clock()
    first = await client.get("/feeds/rss.xml")
    clock.advance(hours=3)
    assert (await client.get("/feeds/rss.xml")).content == first.content
    assert f"<lastBuildDate>{format_datetime(changed, usegmt=True)}</lastBuildDate>" in first.text


async def test_the_news_sitemap_which_changes_with_the_time_of_day_has_an_etag_only(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1))
    answer = await client.get("/sitemap-news.xml")
    assert answer.headers["etag"] and "last-modified" not in answer.headers
    assert (
        await client.get("/sitemap-news.xml", headers={"If-None-Match": answer.headers["etag"]})
    ).status_code == 304


async def test_errors_and_redirects_carry_no_validators(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1))
    await publish(simple_story(1, version=2, slug="renamed"))
    for path, status in (("/articles/none", 404), ("/articles/story-number-1", 301)):
        answer = await client.get(path)
        assert answer.status_code == status and "etag" not in answer.headers, path
