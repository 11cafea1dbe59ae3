"""The reference article through ingest, enrichment and publish, as separate processes."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
import pytest
import redis as sync_redis

from galley.supervisor import Pipeline
from shared import names
from tests.conftest import load_fixture
from tests.e2e.conftest import base_url, eventually, get

pytestmark = pytest.mark.e2e


def visible_text(page: str) -> str:
    without_code = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", without_code)).split())


def test_seed_article_is_published_with_everything_the_reference_page_shows(
    pipeline: Pipeline, redis_server: Any
) -> None:
    ingest = base_url(pipeline, "ingest")
    publish = base_url(pipeline, "publish")

    # 1. The newsroom sends the author profile, two earlier stories, then the article.
    author = load_fixture("author-martin-fornusek.json")
    assert httpx.post(f"{ingest}/v1/authors", json=author, timeout=10).status_code < 300
    accepted: dict[str, Any] = {}
    for name in ("related-pow", "feed-budget", "article"):
        doc = load_fixture(f"{name}.json")
        resp = httpx.post(f"{ingest}/v1/articles", json=doc, timeout=10)
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert body["uri"] == doc["uri"]
        assert int(body["version"]) == 1
        accepted[name] = body

    # 2. Wait until the article page is up (the related story must be published first).
    article = load_fixture("article.json")
    slug = eventually(
        lambda: _slug_on_feed(publish, article["headlines"][0]["value"]),
        what="the article on the news feed",
    )
    page = get(f"{publish}/articles/{slug}")
    assert page.status_code == 200
    text = visible_text(page.text)

    # 3. Everything the reference page shows.
    assert article["headlines"][0]["value"] in text
    assert "2 min read" in text
    image = article["associations"][0]
    assert image["renditions"][0]["href"] in page.text
    assert image["descriptions"][0]["value"] in text
    assert "Ed Jones/AFP via Getty Images" in text
    for paragraph in re.findall(r"<p>(.*?)</p>", article["bodies"][0]["value"]):
        assert " ".join(html.unescape(paragraph).split()) in text
    assert "Martin Fornusek" in text
    assert "Reporter" in text
    assert author["avatar_url"] in page.text
    assert author["bio"][:80] in text
    assert re.search(r'<a[^>]+href="[^"]*/authors/martin-fornusek"[^>]*>\s*Read more', page.text)
    pow_headline = load_fixture("related-pow.json")["headlines"][0]["value"]
    assert html.escape(pow_headline, quote=False) in page.text or pow_headline in text
    budget_headline = load_fixture("feed-budget.json")["headlines"][0]["value"]
    assert budget_headline in text  # in the news feed beside the article

    # 4. "Read more" leads to the author page.
    author_page = get(f"{publish}/authors/martin-fornusek")
    assert author_page.status_code == 200
    assert author["bio"][:80] in visible_text(author_page.text)

    # 5. Downstream: plain redis-py reads CloudEvents fields plus data, no FastStream needed.
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    entries = eventually(
        lambda: _published(client, article["uri"]), what="article.published for the seed article"
    )
    fields = entries[-1]
    assert {
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "datacontenttype",
        "data",
    } <= set(fields)
    assert fields["type"] == names.ARTICLE_PUBLISHED
    data = json.loads(fields["data"])
    assert data["uri"] == article["uri"]
    assert data["reading_minutes"] == 2
    assert data["related"][0]["uri"] == load_fixture("related-pow.json")["uri"]


def _slug_on_feed(publish: str, headline: str) -> str | None:
    feed = get(f"{publish}/")
    if feed.status_code != 200:
        return None
    for href, inner in re.findall(
        r'<a[^>]+href="/articles/([^"]+)"[^>]*>(.*?)</a>', feed.text, flags=re.S
    ):
        if html.unescape(" ".join(re.sub(r"<[^>]+>", " ", inner).split())) == headline:
            return str(href)
    return None


def _published(client: sync_redis.Redis, uri: str) -> list[dict[str, str]]:
    return [
        fields
        for _id, fields in client.xrange(names.ARTICLES_PUBLISHED)
        if fields.get("subject") == uri
    ]
