"""Every item type on its page: media, packages, the story's own dates and language."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from shared.models import AuthorCard, Image, RelatedLink
from tests.unit.publish.conftest import BASE_URL, Publisher
from tests.unit.publish.factories import (
    audio_item,
    graphic_item,
    member,
    package_item,
    picture_item,
    simple_story,
    video_item,
)
from tests.unit.publish.test_pages import Text


class Elements(HTMLParser):
    """Start tags of a page with their attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    @classmethod
    def of(cls, html: str) -> Elements:
        parser = cls()
        parser.feed(html)
        return parser

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.found if name == tag]

    def meta(self, key: str) -> list[str | None]:
        return [
            a.get("content")
            for a in self.all("meta")
            if a.get("property") == key or a.get("name") == key
        ]


def json_ld(html: str) -> dict[str, Any]:
    block = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    assert block is not None
    doc: dict[str, Any] = json.loads(block.group(1))
    return doc


def figcaption(html: str) -> str:
    found = re.search(r"<figcaption>(.*?)</figcaption>", html, re.S)
    assert found is not None
    return Text.of(found.group(1))


async def page(client: httpx.AsyncClient, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return response.text


# --- media items ------------------------------------------------------------------------------


async def test_a_picture_item_has_a_page_with_its_picture_caption_credit_and_copyright(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(picture_item(1))
    html = await page(client, "/articles/picture-number-1")

    [img] = [i for i in Elements.of(html).all("img") if i["src"] == "/media/picture-1-large.jpg"]
    assert (img["width"], img["height"]) == ("1600", "1067")
    assert img["alt"] == ""  # no alt text sent: the caption is not repeated as alt
    assert figcaption(html) == (
        "Boats in the harbour at dawn, number 1. (Photo: NTB / Ola Fotograf) © NTB 2025"
    )
    assert "Picture number 1 of the harbour" in Text.of(html)
    elements = Elements.of(html)
    assert elements.meta("og:image") == [f"{BASE_URL}/media/picture-1-large.jpg"]
    assert elements.meta("twitter:image") == [f"{BASE_URL}/media/picture-1-large.jpg"]
    doc = json_ld(html)
    assert doc["@type"] == "ImageObject"
    assert doc["contentUrl"] == f"{BASE_URL}/media/picture-1-large.jpg"
    assert doc["caption"] == "Boats in the harbour at dawn, number 1."
    assert doc["creditText"] == "NTB / Ola Fotograf"
    assert doc["copyrightNotice"] == "© NTB 2025"


async def test_a_picture_with_alt_text_uses_it_and_an_absolute_href_stays_as_it_is(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(
        picture_item(
            1,
            media={
                "alt": "Three fishing boats",
                "renditions": [
                    {"href": "https://images.example.org/boats.jpg", "contenttype": "image/jpeg"}
                ],
            },
        )
    )
    html = await page(client, "/articles/picture-number-1")
    [img] = [
        i
        for i in Elements.of(html).all("img")
        if i["src"] == "https://images.example.org/boats.jpg"
    ]
    assert img["alt"] == "Three fishing boats" and "width" not in img
    assert Elements.of(html).meta("og:image") == ["https://images.example.org/boats.jpg"]


async def test_a_graphic_item_has_a_page_with_its_graphic_and_credit(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(graphic_item(1))
    html = await page(client, "/articles/graphic-number-1")
    [img] = [i for i in Elements.of(html).all("img") if i["src"] == "/media/graphic-1.png"]
    assert img["alt"] == "A bar chart of the budget by ministry"
    assert figcaption(html) == "How the budget is spent. (Graphic: Galley Graphics)"
    assert json_ld(html)["@type"] == "ImageObject"


async def test_a_video_item_plays_on_its_page_with_poster_sources_and_caption(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(video_item(1))
    html = await page(client, "/articles/video-number-1")
    elements = Elements.of(html)

    [video] = elements.all("video")
    assert "controls" in video and video["preload"] == "metadata"
    assert video["poster"] == "/media/video-1-poster.jpg"
    assert [(s["src"], s["type"]) for s in elements.all("source")] == [
        ("/media/video-1.mp4", "video/mp4"),
        ("https://video.example.org/video-1.webm", "video/webm"),
    ]
    assert figcaption(html) == "The ferry leaves the harbour. (Video: Reuters TV) © Reuters 2025"
    assert elements.meta("og:image") == [f"{BASE_URL}/media/video-1-poster.jpg"]
    doc = json_ld(html)
    assert doc["@type"] == "VideoObject"
    assert doc["contentUrl"] == f"{BASE_URL}/media/video-1.mp4"
    assert doc["thumbnailUrl"] == f"{BASE_URL}/media/video-1-poster.jpg"
    assert doc["uploadDate"] == "2025-02-04T10:00:01Z"
    assert doc["description"] == "The ferry leaves the harbour."
    assert doc["duration"] == "PT1M35S"


async def test_an_audio_item_plays_on_its_page_with_its_sources_and_caption(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(audio_item(1))
    html = await page(client, "/articles/audio-number-1")
    elements = Elements.of(html)
    [audio] = elements.all("audio")
    assert "controls" in audio
    assert [(s["src"], s["type"]) for s in elements.all("source")] == [
        ("/media/audio-1.mp3", "audio/mpeg"),
        ("https://audio.example.org/audio-1.ogg", "audio/ogg"),
    ]
    assert figcaption(html) == "The harbour master on the night shift. (Audio: Galley Radio)"
    doc = json_ld(html)
    assert doc["@type"] == "AudioObject"
    assert doc["contentUrl"] == f"{BASE_URL}/media/audio-1.mp3"


async def test_a_text_story_keeps_its_lead_image_with_copyright_and_an_empty_alt(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    image = Image(
        href="/media/lead-1.jpg",
        caption="The council chamber.",
        credit="Staff",
        copyright="© Galley",
        width=1200,
        height=800,
    )
    await publish(simple_story(1, lead_image=image))
    html = await page(client, "/articles/story-number-1")
    [img] = [i for i in Elements.of(html).all("img") if i["src"] == "/media/lead-1.jpg"]
    assert img["alt"] == ""
    assert figcaption(html) == "The council chamber. (Photo: Staff) © Galley"
    assert Elements.of(html).meta("og:image") == [f"{BASE_URL}/media/lead-1.jpg"]
    assert json_ld(html)["image"] == [f"{BASE_URL}/media/lead-1.jpg"]


async def test_list_items_show_a_small_thumbnail_when_the_story_has_a_picture(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1))
    await publish(picture_item(1))
    await publish(video_item(1))
    html = await page(client, "/")
    thumbs = [i["src"] for i in Elements.of(html).all("img") if i.get("class") == "story-thumb"]
    assert thumbs == ["/media/video-1-poster.jpg", "https://images.example.org/picture-1-thumb.jpg"]


# --- packages ---------------------------------------------------------------------------------


async def test_a_package_page_shows_its_main_item_and_links_the_other_live_members(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    lead = simple_story(
        1,
        body_html="<p>The main story of the package.</p>",
        subheadline="Everything about the harbour.",
    )
    side = simple_story(2, subheadline="A sidebar about the boats.")
    waiting = simple_story(3, embargoed=datetime(2030, 1, 1, tzinfo=UTC))
    picture = picture_item(1)
    for article in (lead, side, waiting, picture):
        await publish(article)
    await publish(
        package_item(
            1,
            [
                member(side, "sidebars"),
                member(waiting, "sidebars"),
                member(lead, "main"),
                member(picture, "gallery"),
            ],
        )
    )

    html = await page(client, "/articles/package-number-1")
    text = Text.of(html)
    assert "Package number 1: the harbour in winter" in text
    assert "The main story of the package." in text  # the main item's body is the page body
    section = html[html.index('class="package-members"') :]
    links = re.findall(r'<a class="package-link" href="([^"]+)">', section)
    assert links == ["/articles/story-number-2", "/articles/picture-number-1"]
    assert "A sidebar about the boats." in Text.of(section)
    assert "story-number-3" not in html and waiting.headline not in text  # not live yet
    assert json_ld(html)["@type"] == "NewsArticle"


async def test_a_package_whose_main_item_is_a_picture_shows_the_picture(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    picture = picture_item(1)
    await publish(picture)
    await publish(
        package_item(
            1, [member(picture, "main")], body_html="<p>The package's own introduction.</p>"
        )
    )
    html = await page(client, "/articles/package-number-1")
    assert '<img src="/media/picture-1-large.jpg"' in html
    assert "The package's own introduction." in Text.of(html)
    assert Elements.of(html).meta("og:image") == [f"{BASE_URL}/media/picture-1-large.jpg"]


async def test_a_package_with_nothing_live_still_shows_its_headline_and_member_headlines(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    lead, side = simple_story(1), simple_story(2)
    await publish(package_item(1, [member(lead, "main"), member(side, "sidebars", headline=False)]))
    html = await page(client, "/articles/package-number-1")
    text = Text.of(html)
    assert "Package number 1: the harbour in winter" in text
    assert lead.headline in text
    assert 'href="/articles/story-number-1"' not in html


# --- dates --------------------------------------------------------------------------------------


async def test_a_backfilled_story_shows_and_sorts_by_its_own_date(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1))
    await publish(
        simple_story(
            2,
            firstcreated=datetime(2019, 3, 1, 8, 30, tzinfo=UTC),
            versioncreated=datetime(2019, 3, 1, 8, 30, tzinfo=UTC),
        )
    )
    await publish(simple_story(3))

    html = await page(client, "/articles/story-number-2")
    assert "March 1, 2019 · 08:30 UTC" in Text.of(html)
    assert Elements.of(html).meta("article:published_time") == ["2019-03-01T08:30:00Z"]
    assert "Updated" not in Text.of(html)
    front = await page(client, "/")
    assert re.findall(r'class="story-title"><a href="/articles/(story-number-\d+)"', front) == [
        "story-number-3",
        "story-number-1",
        "story-number-2",
    ]  # 2019 last, though sent second
    sitemap = (await client.get("/sitemap-news.xml")).text
    assert "story-number-2" not in sitemap  # older than two days


async def test_the_feed_pages_through_stories_in_the_order_of_their_own_dates(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    days = {1: 3, 2: 1, 3: 5, 4: 2}  # story n was published `days` ago
    for n, ago in days.items():
        moment = datetime(2025, 2, 4, 9, tzinfo=UTC) - timedelta(days=ago)
        await publish(simple_story(n, firstcreated=moment, versioncreated=moment))
    seen = re.findall(
        r'class="story-title"><a href="/articles/(story-number-\d+)"', await page(client, "/")
    )
    more = re.search(r'class="show-more"[^>]*href="([^"]+)"', await page(client, "/"))
    assert more is not None
    seen += re.findall(
        r'class="story-title"><a href="/articles/(story-number-\d+)"',
        await page(client, more.group(1)),
    )
    assert seen == ["story-number-2", "story-number-4", "story-number-1", "story-number-3"]


async def test_a_story_modified_later_shows_an_updated_line_and_modified_time(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    created = datetime(2025, 2, 3, 7, 0, tzinfo=UTC)
    await publish(simple_story(1, firstcreated=created, versioncreated=created))
    await publish(
        simple_story(
            1,
            version=2,
            firstcreated=created,
            versioncreated=created + timedelta(hours=5, minutes=15),
        )
    )
    html = await page(client, "/articles/story-number-1")
    text = Text.of(html)
    assert "February 3, 2025 · 07:00 UTC" in text
    assert "Updated February 3, 2025 · 12:15 UTC" in text
    elements = Elements.of(html)
    assert elements.meta("article:published_time") == ["2025-02-03T07:00:00Z"]
    assert elements.meta("article:modified_time") == ["2025-02-03T12:15:00Z"]
    doc = json_ld(html)
    assert (doc["datePublished"], doc["dateModified"]) == (
        "2025-02-03T07:00:00Z",
        "2025-02-03T12:15:00Z",
    )


async def test_a_modification_within_a_minute_is_not_an_update(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    created = datetime(2025, 2, 3, 7, 0, tzinfo=UTC)
    await publish(
        simple_story(1, firstcreated=created, versioncreated=created + timedelta(seconds=40))
    )
    html = await page(client, "/articles/story-number-1")
    assert "Updated" not in Text.of(html) and 'class="modified"' not in html


# --- the story's language -------------------------------------------------------------------

LANGUAGES = {
    "de": (
        "von",
        "2 Min. Lesezeit",
        "4. Februar 2025",
        "Mehr zum Thema",
        "Nachrichten",
        "Mehr anzeigen",
        "Weiterlesen",
        "Über den Autor",
        "Foto: dpa",
        "Korrektur:",
    ),
    "fr": (
        "par",
        "2 min de lecture",
        "4 février 2025",
        "À lire aussi",
        "Fil d'actualité",
        "Voir plus",
        "Lire la suite",
        "À propos de l'auteur",
        "Photo : dpa",
        "Rectificatif :",
    ),
    "nb-NO": (
        "av",
        "2 min lesetid",
        "4. februar 2025",
        "Relaterte saker",
        "Nyhetsstrøm",
        "Vis flere",
        "Les mer",
        "Om forfatteren",
        "Foto: dpa",
        "Rettelse:",
    ),
    "sv": (
        "av",
        "2 min läsning",
        "4 februari 2025",
        "Relaterat",
        "Nyhetsflöde",
        "Visa fler",
        "Läs mer",
        "Om skribenten",
        "Foto: dpa",
        "Rättelse:",
    ),
    "es": (
        "por",
        "2 min de lectura",
        "4 de febrero de 2025",
        "Relacionado",
        "Noticias",
        "Mostrar más",
        "Leer más",
        "Sobre el autor",
        "Foto: dpa",
        "Corrección:",
    ),
    "zh-Hans": (
        "作者：",
        "阅读时间 2 分钟",
        "2025年2月4日",
        "相关报道",
        "新闻动态",
        "显示更多",
        "阅读更多",
        "关于作者",
        "图片：dpa",
        "更正：",
    ),
}


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_the_article_page_speaks_the_storys_language(
    client: httpx.AsyncClient, publish: Publisher, language: str
) -> None:
    by, minutes, date, related, feed, more, read_more, about, credit, correction = LANGUAGES[
        language
    ]
    card = AuthorCard(
        name="Desk Writer",
        slug="desk-writer",
        role="Reporter",
        bio="Writes.",
        url="/authors/desk-writer",
    )
    for n in range(2, 10):  # more than the sidebar shows: its "Show More" is there
        await publish(simple_story(n))
    await publish(
        simple_story(
            1,
            language=language,
            reading_minutes=2,
            authors=[card],
            correction="Fixed.",
            lead_image=Image(href="/media/x.jpg", caption="A caption.", credit="dpa"),
            related=[
                RelatedLink(
                    uri="urn:test:story:2",
                    slug="story-number-2",
                    headline="Story number 2",
                    url="/articles/story-number-2",
                )
            ],
        )
    )

    html = await page(client, "/articles/story-number-1")
    text = Text.of(html)
    assert f'<html lang="{language}">' in html
    assert f"{by} Desk Writer" in text
    for expected in (minutes, date, related, feed, more, read_more, credit, correction):
        assert Text.of(expected) in text, expected
    assert f'aria-label="{about}"' in html.replace("&#39;", "'")
    assert "Show More" not in text and "min read" not in text


async def test_the_front_author_and_subject_pages_use_the_sites_language(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1, language="de"))
    for path in ("/", "/authors/desk-writer", "/subjects/city"):
        html = await page(client, path)
        assert '<html lang="en">' in html
        assert "February 4, 2025" in Text.of(html) and "4. Februar" not in html
        assert "1 min read" in Text.of(html)


async def test_a_package_page_resolves_its_first_fifty_members_only(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    stories = [simple_story(n) for n in range(1, 61)]
    for story in stories:
        await publish(story)
    await publish(
        package_item(
            1, [member(s, "main" if n == 1 else "sidebars") for n, s in enumerate(stories, 1)]
        )
    )
    html = await page(client, "/articles/package-number-1")
    section = html[html.index('class="package-members"') :]
    links = re.findall(r'<a class="package-link" href="([^"]+)">', section)
    assert links == [f"/articles/story-number-{n}" for n in range(2, 51)]


# --- right-to-left languages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "html_tag"),
    [
        ("ar", '<html lang="ar" dir="rtl">'),
        ("he-IL", '<html lang="he-IL" dir="rtl">'),
        ("fa", '<html lang="fa" dir="rtl">'),
        ("ur-PK", '<html lang="ur-PK" dir="rtl">'),
        ("en", '<html lang="en">'),
        ("de-DE", '<html lang="de-DE">'),
    ],
)
async def test_the_page_of_a_story_in_a_right_to_left_language_is_marked_rtl(
    client: httpx.AsyncClient, publish: Publisher, language: str, html_tag: str
) -> None:
    await publish(simple_story(1, language=language))
    html = await page(client, "/articles/story-number-1")
    assert html_tag in html
    assert 'dir="rtl"' not in await page(client, "/")
