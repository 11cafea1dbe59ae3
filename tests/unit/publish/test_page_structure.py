"""What every page owes readers, crawlers and screen readers: a meta description, headings
in order, links that say where they go, the news feed's summaries and thumbnails, "Show
More" to the next page, and an avatar that falls back to initials."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from shared.models import AuthorCard, Image
from tests.unit.publish.conftest import Publisher
from tests.unit.publish.factories import picture_item, simple_story
from tests.unit.publish.test_item_pages import Elements
from tests.unit.publish.test_pages import Text, publish_seed


class Outline(HTMLParser):
    """The levels of a page's headings, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.levels: list[int] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))

    @classmethod
    def of(cls, html: str) -> list[int]:
        parser = cls()
        parser.feed(html)
        return parser.levels


def in_order(levels: list[int], start: int = 1) -> bool:
    """No heading deeper than one below the one before it (the first at `start`)."""
    previous = start - 1
    for level in levels:
        if level > previous + 1:
            return False
        previous = level
    return True


async def a_site(publish: Publisher, seed: tuple[Any, Any, Any]) -> Any:
    for n in range(1, 12):
        lead = Image(href=f"/media/story-{n}.jpg", width=1200, height=800) if n % 2 else None
        await publish(simple_story(n, subheadline=f"What happened in story {n}.", lead_image=lead))
    await publish(simple_story(50, version=1))
    await publish(simple_story(50, version=2, lifecycle="killed"))
    return await publish_seed(publish, *seed)


@pytest.fixture
def seed(
    seed_article: dict[str, Any], seed_author: dict[str, Any], seed_related: dict[str, Any]
) -> tuple[Any, Any, Any]:
    return seed_article, seed_author, seed_related


PAGES = {
    "front": ("/", 200),
    "next front page": (None, 200),
    "article": ("/articles/{slug}", 200),
    "author": ("/authors/martin-fornusek", 200),
    "author without a bio": ("/authors/desk-writer", 200),
    "subject": ("/subjects/city", 200),
    "not found": ("/articles/nothing-here", 404),
    "gone": ("/articles/story-number-50", 410),
    "bad page link": ("/?after=garbage", 422),
}


async def every_page(client: httpx.AsyncClient, slug: str) -> dict[str, httpx.Response]:
    found = {}
    for name, (path, status) in PAGES.items():
        if path is None:
            more = re.search(r'class="show-more"[^>]*href="([^"]+)"', found["front"].text)
            assert more is not None
            path = more.group(1).replace("&amp;", "&")
        answer = await client.get(path.format(slug=slug))
        assert answer.status_code == status, name
        found[name] = answer
    return found


async def test_every_page_has_a_meta_description_of_its_own(
    client: httpx.AsyncClient, publish: Publisher, seed: tuple[Any, Any, Any]
) -> None:
    article = await a_site(publish, seed)
    descriptions = {}
    for name, answer in (await every_page(client, article.slug)).items():
        found = Elements.of(answer.text).meta("description")
        assert len(found) == 1 and found[0] and found[0].strip(), name
        descriptions[name] = found[0]
    assert descriptions["front"] == "The latest stories from Galley News, newest first."
    assert descriptions["subject"] == "Stories about City from Galley News, newest first."
    assert descriptions["author without a bio"] == "Articles by Desk Writer on Galley News."
    assert descriptions["author"].startswith("Martin Fornusek is a reporter")
    assert descriptions["not found"] == "There is no article at this address."
    assert "withdrawn" in descriptions["gone"]


async def test_every_page_has_one_h1_and_headings_that_never_skip_a_level(
    client: httpx.AsyncClient, publish: Publisher, seed: tuple[Any, Any, Any]
) -> None:
    article = await a_site(publish, seed)
    for name, answer in (await every_page(client, article.slug)).items():
        levels = Outline.of(answer.text)
        assert levels.count(1) == 1 and levels[0] == 1, (name, levels)
        assert in_order(levels), (name, levels)
    # the sidebar: "News Feed" (h2), its stories (h3)
    html = (await client.get(f"/articles/{article.slug}")).text
    sidebar = html[html.index('<aside class="sidebar"') :]
    assert Outline.of(sidebar)[0] == 2 and set(Outline.of(sidebar)[1:]) == {3}


@pytest.mark.parametrize(
    ("query", "level"),
    [("", 2), ("&subject=city", 2), ("&author=desk-writer", 3), ("&view=sidebar", 3)],
)
async def test_a_next_page_fragment_has_its_lists_heading_level(
    client: httpx.AsyncClient, publish: Publisher, query: str, level: int
) -> None:
    for n in range(1, 9):
        await publish(simple_story(n))
    front = (await client.get("/")).text
    token = re.search(r"after=([\w-]+)", front)
    assert token is not None
    fragment = (await client.get(f"/feed/more?after={token.group(1)}{query}")).text
    assert set(Outline.of(fragment)) == {level}
    more = re.search(r'data-fragment="([^"]+)"', fragment)
    assert more is not None
    following = more.group(1).replace("&amp;", "&")
    assert following.endswith(query) if query else "&" not in following


async def test_read_more_names_the_author_it_leads_to(
    client: httpx.AsyncClient, publish: Publisher, seed: tuple[Any, Any, Any]
) -> None:
    article = await publish_seed(publish, *seed)
    html = (await client.get(f"/articles/{article.slug}")).text
    link = re.search(r'<a class="read-more" href="/authors/martin-fornusek">(.*?)</a>', html)
    assert link is not None
    assert Text.of(link.group(1)) == "Read more about Martin Fornusek"
    assert link.group(1).startswith('Read more<span class="visually-hidden">')


async def test_the_news_feed_shows_each_storys_summary_and_thumbnail(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    await publish(simple_story(1, subheadline="The council met on Monday."))
    await publish(picture_item(2))
    await publish(
        simple_story(3, lead_image=Image(href="/media/council.jpg", caption="The council."))
    )
    html = (await client.get("/")).text  # a page of three
    items = re.findall(r'<li class="story[^"]*">(.*?)</li>', html, re.S)
    by_slug = {re.search(r'href="/articles/([\w-]+)"', i).group(1): i for i in items}  # type: ignore[union-attr]
    assert "The council met on Monday." in Text.of(by_slug["story-number-1"])
    assert "Boats in the harbour at dawn, number 2." in Text.of(by_slug["picture-number-2"])
    thumbs = {slug: Elements.of(item).all("img") for slug, item in by_slug.items()}
    assert [i["src"] for i in thumbs["picture-number-2"]] == [
        "https://images.example.org/picture-2-thumb.jpg"
    ]
    assert [i["src"] for i in thumbs["story-number-3"]] == ["/media/council.jpg"]
    assert thumbs["story-number-1"] == []
    assert all(i["alt"] == "" for imgs in thumbs.values() for i in imgs)
    # one link per story to its page (the title's, made to cover the story)
    assert len(re.findall(r'href="/articles/story-number-3"', by_slug["story-number-3"])) == 1
    # the first two stories' thumbnails load at once (in view at once), the others lazily
    assert [slug for slug in by_slug] == ["story-number-3", "picture-number-2", "story-number-1"]
    assert "loading" not in thumbs["story-number-3"][0]


async def test_the_sidebar_shows_summaries_and_its_show_more_leads_to_the_stories_after_it(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    for n in range(1, 11):
        await publish(simple_story(n, subheadline=f"Summary of story {n}."))
    html = (await client.get("/articles/story-number-7")).text
    sidebar = html[html.index('<aside class="sidebar"') :]
    shown = re.findall(r'class="story-title"><a href="/articles/(story-number-\d+)"', sidebar)
    assert shown == [f"story-number-{n}" for n in (10, 9, 8, 6, 5, 4)]  # not the page's own
    assert "Summary of story 10." in Text.of(sidebar)
    more = re.search(
        r'class="show-more" data-more data-list="sidebar-list"'
        r' data-fragment="([^"]+)" href="([^"]+)"',
        sidebar,
    )
    assert more is not None and more.group(2).startswith("/?after=")
    following = (await client.get(more.group(2))).text
    assert re.findall(r'class="story-title"><a href="/articles/(story-number-\d+)"', following) == [
        "story-number-3",
        "story-number-2",
        "story-number-1",
    ]
    fragment = (await client.get(more.group(1).replace("&amp;", "&"))).text
    assert 'class="feed-list compact"' in fragment
    assert re.findall(r'href="/articles/(story-number-\d+)"', fragment) == [
        "story-number-3",
        "story-number-2",
        "story-number-1",
    ]
    # when the sidebar shows every other story there is nothing more to show
    few = (await client.get("/articles/story-number-10")).text
    assert "show-more" in few
    await publish(simple_story(10, version=2, lifecycle="killed"))
    await publish(simple_story(9, version=2, lifecycle="killed"))
    await publish(simple_story(8, version=2, lifecycle="killed"))
    last = (await client.get("/articles/story-number-7")).text
    assert "show-more" not in last[last.index('<aside class="sidebar"') :]


async def test_an_avatar_is_drawn_over_the_authors_initials(
    client: httpx.AsyncClient, publish: Publisher
) -> None:
    card = AuthorCard(
        name="Kari Nordmann-Hansen",
        slug="kari",
        url="/authors/kari",
        avatar_url="https://images.example.org/kari.jpg",
    )
    await publish(simple_story(1, authors=[card]))
    for path in ("/articles/story-number-1", "/authors/kari"):
        html = (await client.get(path)).text
        avatar = re.search(r'<span class="avatar[^"]*">(.*?)</span>\s*(?=<div)', html, re.S)
        assert avatar is not None, path
        assert '<span class="avatar-initials" aria-hidden="true">KH</span>' in avatar.group(1)
        image = Elements.of(avatar.group(1)).all("img")
        assert image[0]["src"] == card.avatar_url and image[0]["alt"] == ""
        assert image[0]["data-initials"] == "KH"
