"""Machine formats: ninjs 2.2 against the official schema, feeds through feedparser, sitemap."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import feedparser
import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from services.publish.formats import (
    ATOM_NS,
    CONTENT_NS,
    MAX_MEMBERS,
    Site,
    absolute_html,
    package_uris,
)
from shared.models import Image, PublishedArticle
from tests.unit.publish.conftest import BASE_URL, Publisher
from tests.unit.publish.factories import (
    Clock,
    audio_item,
    graphic_item,
    member,
    package_item,
    picture_item,
    seed_story,
    simple_story,
    video_item,
)

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "shared/standards/ninjs-schema_2.2.json").read_text()
)
seed_related_uri = "urn:newsroom:kyivindependent:article:ukraine-captured-north-korean-pow"
BACKFILLED = datetime(2019, 3, 1, 8, 30, tzinfo=UTC)
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
async def seeded(
    publish: Publisher,
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
) -> Any:
    await publish(seed_story(seed_related, seed_author, seed_related, related=[]))
    article = seed_story(
        seed_article,
        seed_author,
        seed_related,
        correction="An earlier version gave the wrong date.",
    )
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
        "galley:author-role": "Reporter",
        "galley:author-bio": seed_author["bio"],
    }
    assert author["renditions"][0]["href"] == seed_author["avatar_url"]
    assert author["uri"] == f"{BASE_URL}/authors/martin-fornusek"
    related = assocs["related-1"]
    assert related["uri"] == seed_related_uri
    assert related["renditions"][0]["href"].startswith(f"{BASE_URL}/articles/he-wanted-to-live")
    assert assocs["featuremedia"]["descriptions"][0]["role"] == "caption"
    assert {a["role"]: a["value"] for a in doc["altids"]}["galley:url"] == (
        f"{BASE_URL}/articles/{seeded.slug}"
    )


async def test_ninjs_of_a_bare_article_is_valid_too(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1, authors=[], subjects=[], language=None))
    validate((await client.get("/v1/articles/story-number-1")).json())


async def test_ninjs_for_an_unknown_slug_is_a_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/articles/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/feeds/feed.json",
        "/authors/martin-fornusek/rss.xml",
        "/authors/martin-fornusek/feed.xml",
        "/authors/martin-fornusek/atom.xml",
        "/authors/martin-fornusek/feed.json",
        "/subjects/kursk-oblast/rss.xml",
        "/subjects/kursk-oblast/atom.xml",
        "/subjects/kursk-oblast/feed.json",
    ],
)
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


# --- every item type ------------------------------------------------------------------------


@pytest.fixture
async def every_type(publish: Publisher) -> dict[str, Any]:
    """One live item of each type, and a package of a story, the picture and the video."""
    story = simple_story(
        1,
        firstcreated=BACKFILLED,
        versioncreated=BACKFILLED + timedelta(hours=3),
        lead_image=Image(
            href="/media/lead-1.jpg", caption="The chamber.", credit="Staff", copyright="© Galley"
        ),
    )
    items = {
        "text": story,
        "picture": picture_item(1),
        "graphic": graphic_item(1),
        "video": video_item(1),
        "audio": audio_item(1),
    }
    items["composite"] = package_item(
        1,
        [
            member(story, "main"),
            member(items["picture"], "sidebars"),
            member(items["video"], "sidebars"),
        ],
    )
    for article in items.values():
        await publish(article)
    return items


async def test_ninjs_of_a_picture_is_valid_and_carries_its_renditions_caption_credit_copyright(
    client: httpx.AsyncClient, every_type: dict[str, Any]
) -> None:
    doc = (await client.get("/v1/articles/picture-number-1")).json()
    validate(doc)
    assert doc["type"] == "picture" and doc["version"] == "1"
    renditions = {r["name"]: r for r in doc["renditions"]}
    assert renditions["baseImage"] == {
        "name": "baseImage",
        "href": f"{BASE_URL}/media/picture-1-large.jpg",
        "contenttype": "image/jpeg",
        "width": 1600,
        "height": 1067,
    }
    assert renditions["thumbnail"]["href"] == "https://images.example.org/picture-1-thumb.jpg"
    assert renditions["web"]["href"] == f"{BASE_URL}/articles/picture-number-1"
    assert {d["role"]: d["value"] for d in doc["descriptions"]}["caption"] == (
        "Boats in the harbour at dawn, number 1."
    )
    assert doc["by"] == "NTB / Ola Fotograf"
    assert doc["copyrightnotice"] == "© NTB 2025"


async def test_ninjs_of_a_video_is_valid_with_durations_and_its_poster(
    client: httpx.AsyncClient, every_type: dict[str, Any]
) -> None:
    doc = (await client.get("/v1/articles/video-number-1")).json()
    validate(doc)
    assert doc["type"] == "video"
    renditions = {r["name"]: r for r in doc["renditions"]}
    assert renditions["mp4"]["href"] == f"{BASE_URL}/media/video-1.mp4"
    assert renditions["mp4"]["duration"] == 95.0
    assert renditions["poster"]["href"] == f"{BASE_URL}/media/video-1-poster.jpg"
    assert doc["copyrightnotice"] == "© Reuters 2025" and doc["by"] == "Reuters TV"


async def test_ninjs_of_a_package_is_valid_with_its_members_as_associations(
    client: httpx.AsyncClient, every_type: dict[str, Any]
) -> None:
    doc = (await client.get("/v1/articles/package-number-1")).json()
    validate(doc)
    assert doc["type"] == "composite"
    members = [a for a in doc["associations"] if a["name"] in ("main", "sidebars")]
    assert [(a["name"], a["uri"], a["type"]) for a in members] == [
        ("main", "urn:test:story:1", "text"),
        ("sidebars", "urn:test:picture:1", "picture"),
        ("sidebars", "urn:test:video:1", "video"),
    ]
    assert members[0]["headlines"] == [{"role": "main", "value": every_type["text"].headline}]
    assert members[0]["renditions"][0]["href"] == f"{BASE_URL}/articles/story-number-1"


async def test_ninjs_of_a_text_story_has_its_own_dates_source_version_and_copyright(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(
        simple_story(
            1,
            firstcreated=BACKFILLED,
            versioncreated=BACKFILLED + timedelta(days=1),
            source_version="3.2",
            copyright="© Galley 2019",
            lead_image=Image(href="/media/lead-1.jpg", copyright="© AP"),
        )
    )
    doc = (await client.get("/v1/articles/story-number-1")).json()
    validate(doc)
    assert (doc["firstcreated"], doc["versioncreated"]) == (
        "2019-03-01T08:30:00Z",
        "2019-03-02T08:30:00Z",
    )
    assert doc["version"] == "3.2" and doc["copyrightnotice"] == "© Galley 2019"
    featured = next(a for a in doc["associations"] if a["name"] == "featuremedia")
    assert featured["renditions"][0]["href"] == f"{BASE_URL}/media/lead-1.jpg"
    assert featured["copyrightnotice"] == "© AP"


async def test_every_feed_is_well_formed_and_every_item_type_has_content(
    client: httpx.AsyncClient, every_type: dict[str, Any]
) -> None:
    rss = feedparser.parse((await client.get("/feeds/rss.xml")).content)
    atom = feedparser.parse((await client.get("/feeds/atom.xml")).content)
    feed = (await client.get("/feeds/feed.json")).json()
    assert rss.bozo == 0 and atom.bozo == 0
    json_feed_entries(feed)
    expected = {a.headline for a in every_type.values()}
    for entries in (rss.entries, atom.entries):
        assert {e.title for e in entries} == expected
        for entry in entries:
            assert entry.content[0].value.strip(), entry.title
    assert {i["title"] for i in feed["items"]} == expected
    for item in feed["items"]:
        assert item["content_html"].strip(), item["title"]

    content = {i["url"].rsplit("/", 1)[1]: i["content_html"] for i in feed["items"]}
    assert f'<img src="{BASE_URL}/media/picture-1-large.jpg" alt=""' in content["picture-number-1"]
    assert "(Photo: NTB / Ola Fotograf)" in content["picture-number-1"]
    assert (
        f'<a href="{BASE_URL}/media/video-1.mp4">Video: Video number 1' in content["video-number-1"]
    )
    assert "The ferry leaves the harbour." in content["video-number-1"]
    assert f'<a href="{BASE_URL}/media/audio-1.mp3">' in content["audio-number-1"]
    assert f'<a href="{BASE_URL}/articles/story-number-1">' in content["package-number-1"]
    assert f'<a href="{BASE_URL}/articles/picture-number-1">' in content["package-number-1"]
    assert "<p>Body of story 1.</p>" == content["story-number-1"]


async def test_feeds_give_media_absolute_urls_and_video_and_audio_enclosures(
    client: httpx.AsyncClient, every_type: dict[str, Any]
) -> None:
    feed = (await client.get("/feeds/feed.json")).json()
    items = {i["url"].rsplit("/", 1)[1]: i for i in feed["items"]}
    assert items["picture-number-1"]["image"] == f"{BASE_URL}/media/picture-1-large.jpg"
    assert items["story-number-1"]["image"] == f"{BASE_URL}/media/lead-1.jpg"
    assert items["video-number-1"]["attachments"] == [
        {
            "url": f"{BASE_URL}/media/video-1.mp4",
            "mime_type": "video/mp4",
            "title": "Video number 1 of the harbour",
            "duration_in_seconds": 95.0,
        }
    ]
    rss = feedparser.parse((await client.get("/feeds/rss.xml")).content)
    video = next(e for e in rss.entries if e.link.endswith("/video-number-1"))
    assert video.enclosures[0]["href"] == f"{BASE_URL}/media/video-1.mp4"
    atom = feedparser.parse((await client.get("/feeds/atom.xml")).content)
    audio = next(e for e in atom.entries if e.link.endswith("/audio-number-1"))
    assert audio.enclosures[0]["href"] == f"{BASE_URL}/media/audio-1.mp3"


async def test_feeds_and_the_sitemap_carry_the_storys_own_dates(
    client: httpx.AsyncClient, every_type: dict[str, Any]
) -> None:
    rss = (await client.get("/feeds/rss.xml")).text
    assert "<pubDate>Fri, 01 Mar 2019 08:30:00 GMT</pubDate>" in rss
    atom = feedparser.parse((await client.get("/feeds/atom.xml")).content)
    story = next(e for e in atom.entries if e.link.endswith("/story-number-1"))
    assert (story.published, story.updated) == ("2019-03-01T08:30:00Z", "2019-03-01T11:30:00Z")
    assert atom.entries[-1].link.endswith("/story-number-1")  # the oldest story comes last
    feed = (await client.get("/feeds/feed.json")).json()
    item = next(i for i in feed["items"] if i["url"].endswith("/story-number-1"))
    assert (item["date_published"], item["date_modified"]) == (
        "2019-03-01T08:30:00Z",
        "2019-03-01T11:30:00Z",
    )
    sitemap = (await client.get("/sitemap-news.xml")).text
    assert "story-number-1" not in sitemap and "picture-number-1" in sitemap


async def test_a_package_with_a_body_of_its_own_gives_feeds_that_body(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(package_item(1, [], body_html="<p>The editors' introduction.</p>"))
    await publish(package_item(2, []))
    feed = (await client.get("/feeds/feed.json")).json()
    content = {i["url"].rsplit("/", 1)[1]: i["content_html"] for i in feed["items"]}
    assert content["package-number-1"] == "<p>The editors' introduction.</p>"
    assert content["package-number-2"] == (
        f'<p><a href="{BASE_URL}/articles/package-number-2">'
        "Package number 2: the harbour in winter</a></p>"
    )


# --- site paths in the body leave the page absolute -------------------------------------------

LINKED_BODY = (
    '<p>See <a href="/articles/story-number-2" rel="noopener noreferrer">the story</a>.</p>'
    '<figure><img src="/media/inline/chart.png" alt="A chart"></figure>'
    '<p><img src="//cdn.example.org/x.png" alt=""><img src="https://images.example.org/y.jpg"'
    ' alt=""><a href="mailto:desk@news.example">Mail</a></p>'
    "<p>The path src=&quot;/media/z.png&quot; in text stays text.</p>"
)
ABSOLUTE_BODY = (
    f'<p>See <a href="{BASE_URL}/articles/story-number-2" rel="noopener noreferrer">the story'
    f'</a>.</p><figure><img src="{BASE_URL}/media/inline/chart.png" alt="A chart"></figure>'
    '<p><img src="//cdn.example.org/x.png" alt=""><img src="https://images.example.org/y.jpg"'
    ' alt=""><a href="mailto:desk@news.example">Mail</a></p>'
    "<p>The path src=&quot;/media/z.png&quot; in text stays text.</p>"
)


def test_site_paths_of_the_body_become_absolute_and_other_urls_stay_as_they_are() -> None:
    site = Site(base_url=BASE_URL + "/")
    assert absolute_html(LINKED_BODY, site) == ABSOLUTE_BODY
    single = "<img alt='x > y' src='/media/a.jpg'><a title=\"/x\" href=/articles/b>b</a>"
    assert absolute_html(single, site) == (
        f"<img alt='x > y' src='{BASE_URL}/media/a.jpg'>"
        f'<a title="/x" href="{BASE_URL}/articles/b">b</a>'
    )


async def test_feeds_and_the_ninjs_api_carry_the_body_with_absolute_links_and_the_page_not(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1, body_html=LINKED_BODY))

    feed = (await client.get("/feeds/feed.json")).json()
    assert feed["items"][0]["content_html"] == ABSOLUTE_BODY
    for path, content in (
        ("/feeds/rss.xml", f"channel/item/{{{CONTENT_NS}}}encoded"),
        ("/feeds/atom.xml", f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}content"),
    ):
        root = ET.fromstring((await client.get(path)).content)
        assert root.findtext(content) == ABSOLUTE_BODY, path
    doc = (await client.get("/v1/articles/story-number-1")).json()
    assert doc["bodies"][0]["value"] == ABSOLUTE_BODY
    validate(doc)
    html = (await client.get("/articles/story-number-1")).text
    assert '<img src="/media/inline/chart.png" alt="A chart">' in html
    assert BASE_URL + "/media/inline" not in html


# --- the featuremedia association as the newsroom sent it --------------------------------------


@pytest.mark.parametrize(
    ("associations", "uri"),
    [
        ({"featuremedia": {"uri": "urn:pic:keyed", "type": "picture"}}, "urn:pic:keyed"),
        ({"featuremedia": {"guid": "tag:superdesk:pic", "type": "picture"}}, "tag:superdesk:pic"),
        ([{"name": "featuremedia", "uri": "urn:pic:listed"}], "urn:pic:listed"),
        ({"gallery": {"uri": "urn:pic:other"}}, f"{BASE_URL}/media/lead-1.jpg"),
        (None, f"{BASE_URL}/media/lead-1.jpg"),
    ],
)
async def test_the_featuremedia_keeps_its_uri_whether_associations_are_keyed_or_listed(
    client: httpx.AsyncClient, publish: Publisher, associations: Any, uri: str
) -> None:
    ninjs = {"uri": "urn:test:story:1", "associations": associations}
    await publish(simple_story(1, lead_image=Image(href="/media/lead-1.jpg"), ninjs=ninjs))
    doc = (await client.get("/v1/articles/story-number-1")).json()
    validate(doc)
    featured = next(a for a in doc["associations"] if a["name"] == "featuremedia")
    assert featured["uri"] == uri


# --- packages: the first members only ----------------------------------------------------------


def test_a_packages_members_are_looked_up_for_the_first_fifty_only() -> None:
    stories = [simple_story(n) for n in range(1, 61)]
    package = package_item(
        1, [member(s, "main" if n == 0 else "sidebars") for n, s in enumerate(stories)]
    )
    published = PublishedArticle(
        **package.model_dump(), url="/articles/package-number-1", published_at=BACKFILLED
    )
    assert package_uris([published]) == [s.uri for s in stories[:MAX_MEMBERS]]
    assert MAX_MEMBERS == 50
