"""Every dialect and item type a newsroom sends, through the running services.

The documents in tests/fixtures/dialects/ (see its README) go in by the door their
producer uses: Superdesk's the way its HTTP Push does it (ask for each file, upload
the missing ones as signed multipart, then post the signed item), the others over
HTTP with a bearer key or on the Redis input stream. Each accepted one must then be
on the site (page, ninjs API, feeds) and on `articles.published`, showing its
headline, body, dates, bylines and media; each refused one must be a 4xx
problem+json naming what is wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
import redis as sync_redis

from galley.redis_server import RedisServer
from galley.supervisor import Pipeline
from shared import names
from tests.conftest import private_pipeline
from tests.e2e.conftest import base_url, eventually, get
from tests.e2e.test_walking_skeleton import visible_text
from tests.media_samples import jpeg, mp3, mp4, png

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).parents[1] / "fixtures" / "dialects"
SD_KEY, NEWSROOM_KEY = "sd-secret", "newsroom-secret"
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())
SAMPLES = {"image/jpeg": jpeg, "image/png": png, "video/mp4": mp4, "audio/mpeg": mp3}


@pytest.fixture
def keyed_pipeline(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    """The pipeline with API keys: Superdesk signs with its key, the others send theirs."""
    monkeypatch.setenv("INGEST_API_KEYS", f"superdesk:{SD_KEY},newsroom:{NEWSROOM_KEY}")
    with private_pipeline(redis_server, tmp_path) as started:
        yield started


def signature(body: bytes) -> dict[str, str]:
    return {
        "x-superdesk-signature": "sha1=" + hmac.new(SD_KEY.encode(), body, hashlib.sha1).hexdigest()
    }


def push_assets(ingest: str, entry: dict[str, Any]) -> dict[str, bytes]:
    """What Superdesk's transmitter does before the item: ask for each file (no
    credentials), and upload the ones galley lacks as signed multipart."""
    sent = {}
    for asset in entry.get("assets", []):
        media_id, mime = asset["media_id"], asset["mime_type"]
        assert httpx.get(f"{ingest}/v1/assets/{media_id}", timeout=10).status_code in (200, 404)
        content = SAMPLES[mime]()
        request = httpx.Request(
            "POST",
            f"{ingest}/v1/assets",
            data={"media_id": media_id},
            files={"media": (media_id, content, mime)},
        )
        body = request.read()
        response = httpx.post(
            f"{ingest}/v1/assets",
            content=body,
            timeout=10,
            headers={"Content-Type": request.headers["content-type"], **signature(body)},
        )
        assert response.status_code in (200, 201), (entry["file"], response.text)
        assert httpx.get(f"{ingest}/v1/assets/{media_id}", timeout=10).status_code == 200
        sent[media_id] = content
    return sent


def send(
    ingest: str, client: sync_redis.Redis, entry: dict[str, Any], doc: dict[str, Any]
) -> httpx.Response | None:
    body = json.dumps(doc).encode()
    if entry["door"] == "superdesk-push":
        return httpx.post(
            f"{ingest}/v1/articles",
            content=body,
            timeout=10,
            headers={"Content-Type": "application/json", **signature(body)},
        )
    if entry["door"] == "http":
        return httpx.post(
            f"{ingest}/v1/articles",
            content=body,
            timeout=10,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {NEWSROOM_KEY}"},
        )
    client.xadd(
        names.NEWSROOM_SUBMISSIONS,
        {"type": names.ARTICLE_SUBMITTED, "source": "newsroom", "data": body},
    )
    return None


def published_events(client: sync_redis.Redis) -> dict[str, dict[str, Any]]:
    """The newest published event's data per uri."""
    found = {}
    for _id, fields in client.xrange(names.ARTICLES_PUBLISHED):
        found[fields["subject"]] = json.loads(fields["data"])
    return found


def uri_of(doc: dict[str, Any]) -> str:
    return str(doc.get("uri") or doc.get("guid"))


def moment(value: str | None) -> datetime | None:
    """An RFC 3339 time as an aware datetime (any offset, or Z)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def test_every_dialect_and_item_type_reaches_the_site_and_subscribers(
    keyed_pipeline: Pipeline, redis_server: RedisServer
) -> None:
    ingest = base_url(keyed_pipeline, "ingest")
    publish = base_url(keyed_pipeline, "publish")
    client = sync_redis.Redis.from_url(redis_server.url, decode_responses=True)
    problems: list[str] = []
    accepted: dict[str, dict[str, Any]] = {}  # uri -> manifest entry
    files: dict[str, bytes] = {}

    # 1. Send everything, in the manifest's order (packages name items sent before them).
    for entry in MANIFEST:
        doc = json.loads((CORPUS / entry["file"]).read_text())
        files.update(push_assets(ingest, entry))
        response = send(ingest, client, entry, doc)
        expect = entry["expect"]
        if response is not None:
            if response.status_code != expect["status"]:
                problems.append(f"{entry['file']}: {response.status_code} {response.text[:300]}")
                continue
            answer = response.json()
            if expect["status"] >= 400:
                if answer["type"] != f"/problems/{expect['problem']}":
                    problems.append(f"{entry['file']}: problem {answer['type']}")
                continue
            for key in ("uri", "version", "slug", "url"):  # every answer gives these
                if not answer.get(key) and answer.get(key) != 0:
                    problems.append(f"{entry['file']}: the answer has no {key}: {answer}")
        if expect["status"] == 202:
            accepted[uri_of(doc)] = entry

    # 2. Wait until every accepted item is on articles.published.
    events = eventually(
        lambda: (lambda found: found if set(accepted) <= set(found) else None)(
            published_events(client)
        ),
        timeout=90,
        what="every accepted item published",
    )
    home = get(f"{publish}/feeds/feed.json").json()
    json_feed = {item["id"]: item for item in home["items"]}
    rss = feedparser.parse(get(f"{publish}/feeds/rss.xml").content)
    atom = feedparser.parse(get(f"{publish}/feeds/atom.xml").content)
    assert not rss.bozo and not atom.bozo, (rss.bozo_exception, atom.bozo_exception)
    rss_links = {e.link for e in rss.entries}

    # 3. Check each accepted item on its page, in the ninjs API, the feeds and its event.
    for uri, entry in accepted.items():
        expect, data, name = entry["expect"], events[uri], entry["file"]

        def check(ok: bool, what: str, name: str = name) -> None:
            if not ok:
                problems.append(f"{name}: {what}")

        check(data["type"] == entry["type"], f"event type {data['type']}")
        check(data["headline"] == expect["headline"], f"headline {data['headline']!r}")
        if "published" in expect:
            check(
                moment(data["published_at"]) == moment(expect["published"]),
                f"published {data['published_at']} != {expect['published']}",
            )
        if "modified" in expect:
            check(
                moment(data.get("modified_at")) == moment(expect["modified"]),
                f"modified {data.get('modified_at')} != {expect['modified']}",
            )
        published, modified = moment(data["published_at"]), moment(data.get("modified_at"))
        check(
            published is not None and (modified is None or published <= modified),
            "published after modified",
        )
        if "reading_minutes" in expect:
            check(
                data["reading_minutes"] == expect["reading_minutes"],
                f"reading minutes {data['reading_minutes']}",
            )
        if "credit" in expect:
            check(data.get("credit") == expect["credit"], f"credit {data.get('credit')!r}")
        if "authors" in expect:
            check(
                [a["name"] for a in data["authors"]] == expect["authors"],
                f"authors {[a['name'] for a in data['authors']]}",
            )
        if "members" in expect:
            check([m["uri"] for m in data["members"]] == expect["members"], "members")

        page = get(f"{publish}{data['url']}")
        check(page.status_code == 200, f"page {page.status_code}")
        text = visible_text(page.text)
        check(html.escape(expect["headline"], quote=False) in page.text, "headline on the page")
        check(f'lang="{expect.get("language", "en")}' in page.text, "page language")
        for sentence in expect.get("body_contains", []):
            check(sentence in text, f"body sentence missing: {sentence[:60]!r}")
        for absent in expect.get("body_absent", []):
            check(absent not in page.text, f"{absent!r} shown on the page")
        for author in expect.get("authors", []):
            check(author in text, f"author {author} not on the page")
        if "credit" in expect:
            check(f'credit-agency">{expect["credit"]}<' in page.text, "credit not in the byline")
        media = expect.get("media")
        if media:
            if media.get("caption"):
                check(media["caption"] in text, "caption not on the page")
            if media.get("credit"):
                check(media["credit"] in text, "media credit not on the page")
        for media_id in (a["media_id"] for a in entry.get("assets", [])):
            if media_id in page.text:
                check(f"/media/{media_id}" in page.text, f"CMS address for {media_id}")

        api = get(f"{publish}/v1/articles/{data['slug']}")
        check(api.status_code == 200, f"ninjs API {api.status_code}")
        if api.status_code == 200:
            ninjs = api.json()
            check(ninjs["uri"] == uri and ninjs["type"] == entry["type"], "ninjs uri/type")
            check(ninjs["headlines"][0]["value"] == expect["headline"], "ninjs headline")
            if "modified" in expect:
                check(
                    moment(ninjs.get("versioncreated")) == moment(expect["modified"]),
                    f"ninjs versioncreated {ninjs.get('versioncreated')}",
                )
        item = json_feed.get(uri)
        check(item is not None and bool(item.get("content_html")), "JSON Feed item with content")
        check(f"{publish}{data['url']}" in rss_links or data["url"] in str(rss_links), "RSS item")

    # 4. Pushed files are served by the site itself, with the type their bytes have.
    for media_id, content in files.items():
        served = eventually(
            lambda m=media_id: (lambda r: r if r.status_code == 200 else None)(
                get(f"{publish}/media/{m}")
            ),
            what=f"/media/{media_id}",
        )
        if served.content != content:
            problems.append(f"/media/{media_id} serves other bytes")

    assert not problems, "\n".join(problems)
