"""One base URL: every absolute URL the site writes starts with PUBLISH_BASE_URL, which,
unset, is where the service listens."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
import pytest_asyncio

from services.publish.app import create_site
from services.publish.assets import AssetStore
from services.publish.settings import Settings
from services.publish.store import Store
from tests.unit.publish.conftest import Publisher
from tests.unit.publish.factories import (
    Clock,
    audio_item,
    author_card,
    picture_item,
    seed_story,
    video_item,
)
from tests.unit.publish.test_item_pages import Elements, json_ld

BASE = "http://127.0.0.1:9143"  # not the default port
# URLs that name something other than the site: XML namespaces and schemas, and the
# files a newsroom sent with full URLs of its own
OTHERS = (
    "http://www.w3.org/",
    "http://www.sitemaps.org/",
    "http://www.google.com/schemas/",
    "http://purl.org/",
    "https://schema.org",
    "https://jsonfeed.org/",
    "https://www.iptc.org/",
    "https://images.example.org/",
    "https://video.example.org/",
    "https://audio.example.org/",
)
URL = re.compile(r"""https?://[^\s"'<>)\\]+""")


@pytest_asyncio.fixture
async def site(store: Store, assets: AssetStore, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_site(Settings(base_url=BASE + "/", page_size=3), now=clock)
    app.state.store, app.state.assets = store, assets
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def absolute_urls(text: str) -> list[str]:
    return [u.rstrip(".,;") for u in URL.findall(text.replace("\\/", "/"))]


def assert_on_the_site(path: str, text: str) -> None:
    for url in absolute_urls(text):
        assert url.startswith(BASE + "/") or url == BASE or url.startswith(OTHERS), (path, url)
    assert ":8003" not in text, path


async def test_every_absolute_url_of_every_page_feed_sitemap_and_api_follows_the_base_url(
    site: httpx.AsyncClient,
    publish: Publisher,
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
) -> None:
    card = author_card(seed_author | {"avatar_url": "/media/avatars/mf.jpg"})
    article = seed_story(seed_article, seed_author, seed_related, authors=[card])
    for item in (picture_item(1), video_item(2), audio_item(3), article):
        await publish(item)
    slug = article.slug
    paths = [
        "/",
        f"/articles/{slug}",
        "/articles/picture-number-1",
        "/articles/video-number-2",
        "/authors/martin-fornusek",
        "/subjects/kursk-oblast",
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/feeds/feed.json",
        "/authors/martin-fornusek/rss.xml",
        "/subjects/city/atom.xml",
        "/sitemap.xml",
        "/sitemaps/articles-1.xml",
        "/sitemap-news.xml",
        "/robots.txt",
        f"/v1/articles/{slug}",
        "/v1/articles/video-number-2",
    ]
    answers = {}
    for path in paths:
        response = await site.get(path)
        assert response.status_code == 200, path
        assert_on_the_site(path, response.text)
        answers[path] = response.text

    # and each of them is there, written with the base URL
    page = Elements.of(answers[f"/articles/{slug}"])
    canonical = f"{BASE}/articles/{slug}"
    assert [a["href"] for a in page.all("link") if a.get("rel") == "canonical"] == [canonical]
    assert page.meta("og:url") == [canonical]
    assert page.meta("og:image") == [article.lead_image.href]  # the newsroom's own URL
    doc = json_ld(answers[f"/articles/{slug}"])
    assert doc["url"] == canonical and doc["mainEntityOfPage"] == canonical
    assert doc["author"][0]["url"] == f"{BASE}/authors/martin-fornusek"
    assert doc["publisher"]["url"] == f"{BASE}/"
    picture = Elements.of(answers["/articles/picture-number-1"])
    assert picture.meta("og:image") == [f"{BASE}/media/picture-1-large.jpg"]
    assert json_ld(answers["/articles/picture-number-1"])["contentUrl"] == (
        f"{BASE}/media/picture-1-large.jpg"
    )
    video = Elements.of(answers["/articles/video-number-2"])
    assert f"{BASE}/media/video-2.mp4" in video.meta("og:video")
    author = Elements.of(answers["/authors/martin-fornusek"])
    assert author.meta("og:url") == [f"{BASE}/authors/martin-fornusek"]
    assert author.meta("og:image") == [f"{BASE}/media/avatars/mf.jpg"]
    front = Elements.of(answers["/"])
    assert [a["href"] for a in front.all("link") if a.get("rel") == "canonical"] == [f"{BASE}/"]

    rss = ET.fromstring(answers["/feeds/rss.xml"])
    atom_ns = "{http://www.w3.org/2005/Atom}"
    assert rss.find(f"channel/{atom_ns}link").get("href") == f"{BASE}/feeds/rss.xml"
    assert rss.findtext("channel/link") == f"{BASE}/"
    links = {i.findtext("link") for i in rss.iter("item")}
    assert canonical in links
    enclosures = {e.get("url") for e in rss.iter("enclosure")}
    assert enclosures == {f"{BASE}/media/video-2.mp4", f"{BASE}/media/audio-3.mp3"}
    atom = ET.fromstring(answers["/feeds/atom.xml"])
    hrefs = {(link.get("rel"), link.get("href")) for link in atom.iter(f"{atom_ns}link")}
    assert ("self", f"{BASE}/feeds/atom.xml") in hrefs
    assert ("alternate", canonical) in hrefs
    assert ("enclosure", f"{BASE}/media/video-2.mp4") in hrefs
    feed = json.loads(answers["/feeds/feed.json"])
    assert feed["feed_url"] == f"{BASE}/feeds/feed.json" and feed["home_page_url"] == f"{BASE}/"
    by_url = {item["url"]: item for item in feed["items"]}
    assert by_url[f"{BASE}/articles/video-number-2"]["attachments"][0]["url"] == (
        f"{BASE}/media/video-2.mp4"
    )
    assert by_url[canonical]["authors"][0]["avatar"] == f"{BASE}/media/avatars/mf.jpg"

    sitemaps = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    index = ET.fromstring(answers["/sitemap.xml"])
    assert [e.text for e in index.iter(f"{sitemaps}loc")] == [f"{BASE}/sitemaps/articles-1.xml"]
    listed = {e.text for e in ET.fromstring(answers["/sitemaps/articles-1.xml"]).iter()}
    assert canonical in listed and f"{BASE}/articles/audio-number-3" in listed
    news = {e.text for e in ET.fromstring(answers["/sitemap-news.xml"]).iter(f"{sitemaps}loc")}
    assert f"{BASE}/articles/picture-number-1" in news
    assert answers["/robots.txt"].splitlines()[2:] == [
        f"Sitemap: {BASE}/sitemap.xml",
        f"Sitemap: {BASE}/sitemap-news.xml",
    ]

    ninjs = json.loads(answers[f"/v1/articles/{slug}"])
    web = [r["href"] for r in ninjs["renditions"] if r["name"] == "web"]
    assert web == [canonical]
    assert {"role": "galley:url", "value": canonical} in ninjs["altids"]
    authors = [a for a in ninjs["associations"] if a["name"].startswith("author-")]
    assert authors[0]["uri"] == f"{BASE}/authors/martin-fornusek"
    assert authors[0]["renditions"] == [{"name": "avatar", "href": f"{BASE}/media/avatars/mf.jpg"}]
    assert ninjs["subjects"][0]["uri"].startswith(f"{BASE}/subjects/")
    played = json.loads(answers["/v1/articles/video-number-2"])["renditions"]
    assert f"{BASE}/media/video-2.mp4" in [r["href"] for r in played]


def test_unset_the_base_url_is_where_the_service_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUBLISH_BASE_URL", raising=False)
    monkeypatch.setenv("PUBLISH_PORT", "9143")
    assert Settings().base_url == "http://127.0.0.1:9143"
    assert Settings(host="0.0.0.0", port=8080).base_url == "http://127.0.0.1:8080"
    assert Settings(host="news.internal", port=80).base_url == "http://news.internal:80"
    assert Settings(host="::1", port=8003).base_url == "http://[::1]:8003"
    monkeypatch.setenv("PUBLISH_BASE_URL", "https://news.example/")
    assert Settings().base_url == "https://news.example"  # set: as given, without the slash
