"""Facts change after publication: pages follow, through all services as processes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from galley.supervisor import Pipeline
from tests.conftest import load_fixture
from tests.e2e.conftest import base_url, eventually, get

pytestmark = pytest.mark.e2e


def post(url: str, doc: dict[str, Any]) -> httpx.Response:
    resp = httpx.post(url, json=doc, timeout=10)
    assert resp.status_code < 300, resp.text
    return resp


def test_a_new_bio_and_a_killed_related_story_reach_the_published_page(
    pipeline: Pipeline,
) -> None:
    ingest, publish = base_url(pipeline, "ingest"), base_url(pipeline, "publish")
    author = load_fixture("author-martin-fornusek.json")
    post(f"{ingest}/v1/authors", author)
    pow_story = load_fixture("related-pow.json")
    post(f"{ingest}/v1/articles", pow_story)
    slug = post(f"{ingest}/v1/articles", load_fixture("article.json")).json()["slug"]
    pow_slug = eventually(lambda: _related_slugs(publish, slug), what="a related link")[0]
    assert "captured-a-north-korean-pow" in pow_slug

    # The desk updates the bio: the already-published article is re-enriched and republished.
    new_bio = "Martin Fornusek reports on Central Europe for the Kyiv Independent."
    post(f"{ingest}/v1/authors", {**author, "bio": new_bio})
    eventually(
        lambda: new_bio in get(f"{publish}/articles/{slug}").text,
        what="the new bio on the article page",
    )

    # The related story is killed: it answers 410 and the link to it disappears.
    post(f"{ingest}/v1/articles", {**pow_story, "version": "2", "pubstatus": "canceled"})
    eventually(
        lambda: get(f"{publish}/articles/{pow_slug}").status_code == 410,
        what="410 for the killed story",
    )
    eventually(
        lambda: f"/articles/{pow_slug}" not in get(f"{publish}/articles/{slug}").text,
        what="the dead related link gone from the page",
    )
    assert f"/articles/{pow_slug}" not in get(f"{publish}/").text


def _related_slugs(publish: str, slug: str) -> list[str] | None:
    resp = get(f"{publish}/v1/articles/{slug}")
    if resp.status_code != 200:
        return None
    related = [
        a
        for a in resp.json().get("associations", [])
        if str(a.get("name", "")).startswith("related")
    ]
    slugs = []
    for assoc in related:
        for alt in assoc.get("altids", []):
            if "slug" in str(alt.get("role", "")):
                slugs.append(alt["value"])
        href = next((r.get("href") for r in assoc.get("renditions", []) if r.get("href")), None)
        if href and "/articles/" in href:
            slugs.append(href.rsplit("/articles/", 1)[1])
    return slugs or None
