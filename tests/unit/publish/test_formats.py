"""Machine formats: ninjs 2.2 against the official schema, feeds through feedparser, sitemap."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import feedparser
import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.unit.publish.conftest import BASE_URL, Publisher
from tests.unit.publish.factories import Clock, seed_story, simple_story

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "shared/standards/ninjs-schema_2.2.json").read_text())
seed_related_uri = "urn:newsroom:kyivindependent:article:ukraine-captured-north-korean-pow"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
async def seeded(publish: Publisher, seed_article: dict[str, Any], seed_author: dict[str, Any],
                 seed_related: dict[str, Any]) -> Any:
    await publish(seed_story(seed_related, seed_author, seed_related, related=[]))
    article = seed_story(seed_article, seed_author, seed_related,
                         correction="An earlier version gave the wrong date.")
    await publish(article)
    return article


def json_feed_entries(feed: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Check the JSON Feed 1.1 required members; return the item titles and urls."""
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and isinstance(feed["items"], list)
    for item in feed["items"]:
        assert isinstance(item["id"], str)
        assert "content_html" in item or "content_text" in item
    return [i["title"] for i in feed["items"]], [i["url"] for i in feed["items"]]


FORMATS = FormatChecker()


@FORMATS.checks("uri")
def _absolute_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme and " " not in value)


@FORMATS.checks("date-time", raises=ValueError)
def _rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def validate(doc: dict[str, Any]) -> None:
    """The official schema, with its `uri` and `date-time` formats enforced too."""
    Draft202012Validator(SCHEMA, format_checker=FORMATS).validate(doc)


async def test_the_ninjs_api_is_valid_ninjs_2_2_with_galleys_extras_in_documented_places(
    client: httpx.AsyncClient, seeded: Any, seed_author: dict[str, Any]
) -> None:
    response = await client.get(f"/v1/articles/{seeded.slug}")
    assert response.status_code == 200
    doc = response.json()
    validate(doc)

    assert doc["uri"] == seeded.uri and doc["headlines"][0]["value"] == seeded.headline
    roles = {d["role"]: d["value"] for d in doc["descriptions"]}
    assert roles["galley:reading-time"] == "2 min read"
    assert roles["galley:correction"] == "An earlier version gave the wrong date."
    assocs = {a["name"]: a for a in doc["associations"]}
    author = assocs["author-1"]
    assert author["title"] == "Martin Fornusek"
    assert {d["role"]: d["value"] for d in author["descriptions"]} == {
        "galley:author-role": "Reporter", "galley:author-bio": seed_author["bio"]}
    assert author["renditions"][0]["href"] == seed_author["avatar_url"]
    assert author["uri"] == f"{BASE_URL}/authors/martin-fornusek"
    related = assocs["related-1"]
    assert related["uri"] == seed_related_uri
    assert related["renditions"][0]["href"].startswith(f"{BASE_URL}/articles/he-wanted-to-live")
    assert assocs["featuremedia"]["descriptions"][0]["role"] == "caption"
    assert {a["role"]: a["value"] for a in doc["altids"]}["galley:url"] == (
        f"{BASE_URL}/articles/{seeded.slug}")


async def test_ninjs_of_a_bare_article_is_valid_too(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1, authors=[], subjects=[], language=None))
    validate((await client.get("/v1/articles/story-number-1")).json())


async def test_ninjs_for_an_unknown_slug_is_a_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/articles/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", [
    "/feeds/rss.xml", "/feeds/atom.xml", "/feeds/feed.json",
    "/authors/martin-fornusek/rss.xml", "/authors/martin-fornusek/feed.xml",
    "/authors/martin-fornusek/atom.xml", "/authors/martin-fornusek/feed.json",
    "/subjects/kursk-oblast/rss.xml", "/subjects/kursk-oblast/atom.xml",
    "/subjects/kursk-oblast/feed.json",
])
async def test_every_feed_parses_cleanly_and_lists_the_stories_newest_first(
    client: httpx.AsyncClient, seeded: Any, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    if path.endswith(".json"):  # feedparser 6.0 reads RSS and Atom only
        titles, links = json_feed_entries(response.json())
    else:
        parsed = feedparser.parse(response.content)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        titles, links = [e.title for e in parsed.entries], [e.link for e in parsed.entries]
    assert titles[0] == seeded.headline
    assert titles[1].startswith("'He wanted to live'")
    assert links[0] == f"{BASE_URL}/articles/{seeded.slug}"


async def test_feeds_carry_authors_and_the_body(client: httpx.AsyncClient, seeded: Any) -> None:
    atom = feedparser.parse((await client.get("/feeds/atom.xml")).content)
    entry = atom.entries[0]
    assert entry.author == "Martin Fornusek"
    assert "North Korean troops have not been fighting" in entry.content[0].value
    feed = (await client.get("/feeds/feed.json")).json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["items"][0]["authors"][0]["name"] == "Martin Fornusek"


async def test_feeds_for_unknown_authors_or_subjects_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/authors/nobody/rss.xml")).status_code == 404
    assert (await client.get("/subjects/nothing/feed.json")).status_code == 404


async def test_the_news_sitemap_lists_only_the_last_two_days(
    client: httpx.AsyncClient, publish: Publisher, clock: Clock
) -> None:
    await publish(simple_story(1))
    clock.advance(days=1)
    await publish(simple_story(2))
    clock.advance(days=1, hours=12)

    root = ET.fromstring((await client.get("/sitemap-news.xml")).content)
    locs = [u.findtext(f"{SM}loc") for u in root.findall(f"{SM}url")]
    assert locs == [f"{BASE_URL}/articles/story-number-2"]
    news = root.find(f"{SM}url/{NEWS}news")
    assert news is not None
    assert news.findtext(f"{NEWS}publication/{NEWS}name") == "Galley News"
    assert news.findtext(f"{NEWS}title") == "Story number 2 about the city council"
    published = news.findtext(f"{NEWS}publication_date")
    assert published is not None
    assert published.startswith((clock() - timedelta(days=1, hours=12)).strftime("%Y-%m-%d"))
