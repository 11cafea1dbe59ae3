"""Versions and lifecycle through the HTTP door: what is stored and what is emitted."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import httpx

from services.ingest.store import IngestStore
from shared import names
from shared.models import Article, AuthorProfile
from tests.unit.ingest.conftest import SUPERDESK, Clock, queued

URI = "urn:newsroom:kyivindependent:article:north-korean-troops-absent-kursk"
SLUG = "north-korean-troops-absent-from-front-in-russias-kursk-oblast-since-mid-january-seoul-says"


def version(seed: dict[str, Any], number: int, **changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(seed)
    doc["version"] = str(number)
    doc.update(changes)
    return doc


async def post(client: httpx.AsyncClient, doc: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/articles", json=doc, headers=SUPERDESK)


async def ingested(store: IngestStore) -> list[Article]:
    return [Article.model_validate(e["data"]) for e in await queued(store, names.ARTICLES_INGESTED)]


async def test_an_accepted_article_gets_202_and_its_event_is_queued_in_the_outbox(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict, clock: Clock
) -> None:
    response = await post(client, seed_article)
    assert response.status_code == 202
    assert response.json() == {
        "status": "accepted",
        "uri": URI,
        "version": 1,
        "source_version": "1",
        "slug": SLUG,
        "url": f"http://127.0.0.1:8003/articles/{SLUG}",
        "path": f"/articles/{SLUG}",
        "type": "text",
        "dialect": "ninjs-2",
        "lifecycle": "published",
        "visible_from": None,
    }
    [event] = await queued(store)
    assert event["type"] == names.ARTICLE_INGESTED and event["subject"] == URI
    assert event["source"] == names.source_of(names.INGEST)
    assert event["time"] == clock().isoformat()
    article = Article.model_validate(event["data"])
    assert (article.source, article.word_count, article.reading_minutes) == ("superdesk", 346, 2)


async def test_an_older_version_is_recorded_as_stale_and_changes_nothing(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict
) -> None:
    assert (await post(client, version(seed_article, 3))).status_code == 202
    response = await post(client, version(seed_article, 2, language="de"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "stale",
        "uri": URI,
        "version": 3,
        "source_version": "2",
        "current_version": 3,
        "slug": SLUG,
        "url": f"http://127.0.0.1:8003/articles/{SLUG}",
        "path": f"/articles/{SLUG}",
        "dialect": "ninjs-2",
    }
    assert [a.version for a in await ingested(store)] == [3]
    status = (await client.get(f"/v1/articles/{URI}", headers=SUPERDESK)).json()
    assert status["version"] == 3
    assert [s["version"] for s in status["stale"]] == ["2"]


async def test_the_same_version_with_the_same_content_is_a_no_op(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict
) -> None:
    await post(client, seed_article)
    again = await post(client, copy.deepcopy(seed_article) | {"version": 1})
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert len(await queued(store)) == 1


async def test_the_same_version_with_different_content_is_refused_with_409(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict
) -> None:
    await post(client, seed_article)
    changed = version(seed_article, 1, headlines=[{"role": "main", "value": "Changed"}])
    response = await post(client, changed)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["version"] == "1"
    assert len(await queued(store, names.ARTICLES_INGESTED)) == 1


async def test_an_update_keeps_the_slug_even_when_the_headline_changes(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict
) -> None:
    await post(client, seed_article)
    update = version(seed_article, 2, headlines=[{"role": "main", "value": "A new headline"}])
    response = await post(client, update)
    assert response.json()["slug"] == SLUG
    assert [(a.version, a.lifecycle, a.slug) for a in await ingested(store)] == [
        (1, "published", SLUG),
        (2, "updated", SLUG),
    ]


async def test_a_different_story_with_the_same_headline_gets_a_suffixed_slug(
    client: httpx.AsyncClient, seed_article: dict
) -> None:
    await post(client, seed_article)
    twin = version(seed_article, 1, uri="urn:other:story")
    third = version(seed_article, 1, uri="urn:third:story")
    assert (await post(client, twin)).json()["slug"] == f"{SLUG}-2"
    assert (await post(client, third)).json()["slug"] == f"{SLUG}-3"


async def test_a_correction_carries_its_note_and_the_corrected_lifecycle(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict
) -> None:
    await post(client, seed_article)
    note = "An earlier version gave the wrong date."
    fixed = version(seed_article, 2, descriptions=[{"role": "correction", "value": note}])
    assert (await post(client, fixed)).json()["lifecycle"] == "corrected"
    latest = (await ingested(store))[-1]
    assert (latest.lifecycle, latest.correction) == ("corrected", note)


async def test_a_kill_emits_a_killed_version_that_still_names_the_story(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict
) -> None:
    await post(client, seed_article)
    response = await post(client, version(seed_article, 2, pubstatus="canceled"))
    assert response.status_code == 202
    killed = (await ingested(store))[-1]
    assert (killed.lifecycle, killed.pubstatus) == ("killed", "canceled")
    assert (killed.uri, killed.slug, killed.version) == (URI, SLUG, 2)
    status = (await client.get(f"/v1/articles/{SLUG}", headers=SUPERDESK)).json()
    assert status["state"] == "killed"


async def test_withholding_a_story_is_a_kill_too(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict
) -> None:
    await post(client, seed_article)
    await post(client, version(seed_article, 2, pubstatus="withheld"))
    assert (await ingested(store))[-1].lifecycle == "killed"


async def test_an_embargoed_story_is_held_until_its_time_by_the_injected_clock(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict, clock: Clock
) -> None:
    until = clock() + timedelta(minutes=30)
    response = await post(client, version(seed_article, 1, embargoed=until.isoformat()))
    assert response.json()["visible_from"] == until.isoformat()
    assert (await ingested(store))[0].embargoed == until
    status = await client.get(f"/v1/articles/{URI}", headers=SUPERDESK)
    assert status.json()["state"] == "embargoed"
    clock.advance(minutes=31)
    status = await client.get(f"/v1/articles/{URI}", headers=SUPERDESK)
    assert status.json()["state"] == "visible"


async def test_a_scheduled_story_carries_publish_at_and_waits_for_it(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict, clock: Clock
) -> None:
    at = clock() + timedelta(hours=2)
    embargo = clock() + timedelta(hours=1)
    doc = version(
        seed_article, 1, embargoed=embargo.isoformat(), **{"x-galley-publish-at": at.isoformat()}
    )
    await post(client, doc)
    article = (await ingested(store))[0]
    assert (article.publish_at, article.visible_from) == (at, at)
    clock.advance(minutes=90)
    status = await client.get(f"/v1/articles/{URI}", headers=SUPERDESK)
    assert status.json()["state"] == "scheduled"
    clock.advance(minutes=31)
    status = await client.get(f"/v1/articles/{URI}", headers=SUPERDESK)
    assert status.json()["state"] == "visible"


async def test_a_naive_embargo_gets_422_and_nothing_is_stored(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict
) -> None:
    response = await post(client, version(seed_article, 1, embargoed="2025-02-05T09:00:00"))
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/embargoed"]
    assert await queued(store, names.ARTICLES_INGESTED) == []
    [rejected] = await queued(store, names.ARTICLES_REJECTED)
    assert rejected["data"]["problem"] == "invalid-document"
    assert rejected["data"]["errors"][0]["pointer"] == "/embargoed"
    assert (rejected["data"]["source"], rejected["data"]["door"]) == ("superdesk", "http")


async def test_an_xss_body_is_stored_and_emitted_sanitized(
    client: httpx.AsyncClient, store: IngestStore, seed_article: dict
) -> None:
    seed_article["bodies"][0]["value"] = (
        '<p>Hi</p><script>alert(1)</script><img src=x onerror="alert(1)">'
        '<a href="javascript:alert(1)">x</a><iframe src="https://evil.example"></iframe>'
    )
    await post(client, seed_article)
    article = (await ingested(store))[0]
    assert article.body_html == '<p>Hi</p><img src="x"><a rel="noopener noreferrer">x</a>'
    assert article.ninjs["bodies"][0]["value"] == article.body_html


async def test_an_author_profile_is_accepted_once_and_emitted_as_author_updated(
    client: httpx.AsyncClient, store: IngestStore, seed_author: dict
) -> None:
    first = await client.post("/v1/authors", json=seed_author, headers=SUPERDESK)
    assert first.status_code == 202
    assert first.json() == {"status": "accepted", "slug": "martin-fornusek"}
    again = await client.post("/v1/authors", json=seed_author, headers=SUPERDESK)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    seed_author["role"] = "Senior reporter"
    assert (
        await client.post("/v1/authors", json=seed_author, headers=SUPERDESK)
    ).status_code == 202
    events = await queued(store, names.AUTHORS_UPDATED)
    assert [e["subject"] for e in events] == ["martin-fornusek"] * 2
    assert AuthorProfile.model_validate(events[-1]["data"]).role == "Senior reporter"


async def test_an_invalid_author_profile_gets_422_with_pointers(
    client: httpx.AsyncClient, seed_author: dict
) -> None:
    seed_author["avatar_url"] = "javascript:alert(1)"
    seed_author["aliases"] = "M. Fornusek"
    response = await client.post("/v1/authors", json=seed_author, headers=SUPERDESK)
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"/avatar_url", "/aliases"}
