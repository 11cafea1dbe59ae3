"""Superdesk's HTTP Push, unchanged on Superdesk's side: a signed body, the assets
endpoint it asks and uploads to, then the item; and every refusal made visible."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
from prometheus_client import REGISTRY

from services.ingest.store import IngestStore
from shared import names
from tests.media_samples import jpeg
from tests.unit.ingest.conftest import SUPERDESK, AppFactory, client_for, queued

KEY = "sd-key"  # superdesk's key in the fixtures' INGEST_API_KEYS
CMS = "http://superdesk.example.com/api/upload-raw"


def signed(body: bytes, key: str = KEY) -> dict[str, str]:
    digest = hmac.new(key.encode(), body, hashlib.sha1).hexdigest()
    return {"x-superdesk-signature": f"sha1={digest}"}


def push_item(media_id: str = "pic-1") -> dict[str, Any]:
    return {
        "guid": "urn:newsml:sd.example.com:2024-05-01:ferry",
        "version": "3",
        "type": "text",
        "headline": "Ferry service resumes after storm",
        "byline": "Kari Nordmann",
        "body_html": f'<p>The ferry sails again.</p><figure><img src="{CMS}/{media_id}.jpg">'
        "</figure>",
        "firstcreated": "2024-05-01T06:00:00+0000",
        "versioncreated": "2024-05-01T07:30:00+0000",
        "associations": {
            "featuremedia": {
                "guid": "urn:newsml:sd.example.com:pic",
                "type": "picture",
                "byline": "Photo desk",
                "description_text": "The ferry at the quay.",
                "renditions": {
                    "original": {
                        "href": f"{CMS}/{media_id}.jpg",
                        "media": media_id,
                        "mimetype": "image/jpeg",
                        "width": 64,
                        "height": 48,
                    }
                },
            }
        },
    }


def multipart(media_id: str, content: bytes, mimetype: str = "image/jpeg") -> tuple[bytes, str]:
    """The multipart body Superdesk's transmitter builds (requests' encoding)."""
    request = httpx.Request(
        "POST",
        "http://x/",
        data={"media_id": media_id},
        files={"media": (media_id, content, mimetype)},
    )
    request.read()
    return request.content, request.headers["content-type"]


async def test_a_signed_push_is_accepted_as_the_keys_source(
    make_app: AppFactory, store: IngestStore
) -> None:
    body = json.dumps(push_item()).encode()
    async with client_for(make_app(), client=("10.9.8.7", 4000)) as client:
        response = await client.post(
            "/v1/articles",
            content=body,
            headers={"Content-Type": "application/json", **signed(body)},
        )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["uri"], answer["version"], answer["source_version"]) == (
        push_item()["guid"],
        3,
        "3",
    )
    assert answer["slug"] == "ferry-service-resumes-after-storm"
    assert answer["url"].endswith("/articles/ferry-service-resumes-after-storm")
    [event] = await queued(store, names.ARTICLES_INGESTED)
    assert event["data"]["source"] == "superdesk" and event["data"]["dialect"] == "superdesk"


async def test_a_bad_signature_gets_401_and_nothing_is_kept(
    make_app: AppFactory, store: IngestStore
) -> None:
    body = json.dumps(push_item()).encode()
    async with client_for(make_app()) as client:
        wrong_key = await client.post(
            "/v1/articles",
            content=body,
            headers={"Content-Type": "application/json", **signed(body, "not-the-key")},
        )
        tampered = await client.post(
            "/v1/articles",
            content=body + b" ",
            headers={"Content-Type": "application/json", **signed(body)},
        )
    assert (wrong_key.status_code, tampered.status_code) == (401, 401)
    assert wrong_key.json()["type"] == "/problems/bad-signature"
    assert await queued(store) == []


async def test_assets_are_asked_for_uploaded_and_then_shown_from_the_site(
    make_app: AppFactory, store: IngestStore
) -> None:
    picture = jpeg()
    upload, content_type = multipart("pic-1", picture)
    async with client_for(make_app(), client=("10.9.8.7", 4000)) as client:
        assert (await client.get("/v1/assets/pic-1")).status_code == 404  # no credentials
        stored = await client.post(
            "/v1/assets", content=upload, headers={"Content-Type": content_type, **signed(upload)}
        )
        assert stored.status_code == 201, stored.text
        assert stored.json()["mime_type"] == "image/jpeg"
        assert stored.json()["size"] == len(picture)
        info = await client.get("/v1/assets/pic-1")  # Superdesk asks without credentials
        assert info.status_code == 200 and set(info.json()) == {"media_id", "href"}
        keyed = await client.get("/v1/assets/pic-1", headers=SUPERDESK)
        assert keyed.json()["sha256"] == hashlib.sha256(picture).hexdigest()
        again = await client.post(
            "/v1/assets", content=upload, headers={"Content-Type": content_type, **signed(upload)}
        )
        assert again.status_code == 200 and again.json()["status"] == "unchanged"
        body = json.dumps(push_item()).encode()
        item = await client.post(
            "/v1/articles",
            content=body,
            headers={"Content-Type": "application/json", **signed(body)},
        )
    assert item.status_code == 202
    # sent on again for the re-upload too: the site may have lost it, keeping it twice is free
    first, again_sent = await queued(store, names.ASSETS_STORED)
    assert first["data"]["sha256"] == again_sent["data"]["sha256"]
    asset_event = first
    assert asset_event["data"]["media_id"] == "pic-1"
    [article] = [e["data"] for e in await queued(store, names.ARTICLES_INGESTED)]
    assert article["lead_image"]["href"] == "/media/pic-1"
    assert '<img src="/media/pic-1"' in article["body_html"] and CMS not in article["body_html"]
    assert article["lead_image"]["caption"] == "The ferry at the quay."


async def test_a_file_that_is_not_a_picture_video_or_audio_is_refused_with_415(
    make_app: AppFactory, store: IngestStore
) -> None:
    upload, content_type = multipart("doc-1", b"%PDF-1.7 not a picture", "image/jpeg")
    async with client_for(make_app()) as client:
        response = await client.post(
            "/v1/assets", content=upload, headers={"Content-Type": content_type, **SUPERDESK}
        )
    assert response.status_code == 415
    assert "PDF" in response.json()["detail"]
    assert await queued(store, names.ASSETS_STORED) == []


async def test_a_file_over_the_asset_limit_is_refused_with_413(make_app: AppFactory) -> None:
    upload, content_type = multipart("big", jpeg(400, 400))
    async with client_for(make_app(max_asset_bytes=1000)) as client:
        response = await client.post(
            "/v1/assets", content=upload, headers={"Content-Type": content_type, **SUPERDESK}
        )
    assert response.status_code == 413


async def test_to_superdesk_a_file_galley_will_not_serve_is_not_kept_but_not_an_error(
    make_app: AppFactory, store: IngestStore
) -> None:
    """Superdesk gives up a whole item when one of its files gets a 4xx."""
    tiff, tiff_type = multipart("scan-1", b"II*\x00" + b"\x00" * 64, "image/tiff")
    big, big_type = multipart("big", jpeg(400, 400))
    async with client_for(make_app(max_asset_bytes=1000)) as client:
        for body, kind in ((tiff, tiff_type), (big, big_type)):
            response = await client.post(
                "/v1/assets", content=body, headers={"Content-Type": kind, **signed(body)}
            )
            assert response.status_code == 200
            assert response.json()["status"] == "not-kept"
    assert await queued(store, names.ASSETS_STORED) == []
    problems = [e["data"]["problem"] for e in await queued(store, names.ARTICLES_REJECTED)]
    assert problems == ["unsupported-media-type", "payload-too-large"]


async def test_a_signed_sender_over_its_rate_is_told_503_which_superdesk_retries(
    make_app: AppFactory,
) -> None:
    body = json.dumps(push_item()).encode()
    async with client_for(make_app(rate_burst=1, rate_per_second=0.01)) as client:
        first = await client.post(
            "/v1/articles",
            content=body,
            headers={"Content-Type": "application/json", **signed(body)},
        )
        second = await client.post(
            "/v1/articles",
            content=body,
            headers={"Content-Type": "application/json", **signed(body)},
        )
    assert first.status_code == 202
    assert second.status_code == 503 and int(second.headers["Retry-After"]) >= 1


def counted(reason: str, door: str = "http") -> float:
    return (
        REGISTRY.get_sample_value("galley_ingest_rejected_total", {"reason": reason, "door": door})
        or 0.0
    )


async def test_a_refusal_is_counted_logged_and_sent_on_articles_rejected(
    client: httpx.AsyncClient, store: IngestStore, caplog: Any
) -> None:
    before = counted("invalid-document")
    doc = {
        "uri": "urn:x:1",
        "headlines": [{"value": "No body"}],
        "firstcreated": "2024-01-01T00:00:00",
    }
    response = await client.post("/v1/articles", json=doc, headers=SUPERDESK)
    assert response.status_code == 422
    assert counted("invalid-document") == before + 1
    [rejected] = await queued(store, names.ARTICLES_REJECTED)
    assert rejected["data"]["uri"] == "urn:x:1" and rejected["data"]["source"] == "superdesk"
    assert rejected["data"]["status"] == 422 and rejected["data"]["dialect"] == "ninjs-2"
    assert any("refused POST /v1/articles from superdesk" in r.getMessage() for r in caplog.records)


async def test_refused_requests_do_not_use_up_the_sources_rate(make_app: AppFactory) -> None:
    good = push_item()
    async with client_for(make_app(rate_burst=3, rate_per_second=0.01)) as client:
        for _ in range(3):
            bad = await client.post("/v1/articles", json={"uri": "u"}, headers=SUPERDESK)
            assert bad.status_code == 422
        for version in ("1", "2", "3"):
            ok = await client.post(
                "/v1/articles", json={**good, "version": version}, headers=SUPERDESK
            )
            assert ok.status_code == 202, ok.text
        limited = await client.post(
            "/v1/articles", json={**good, "version": "4"}, headers=SUPERDESK
        )
    assert limited.status_code == 429


async def test_a_source_that_keeps_sending_refused_documents_is_slowed_down(
    make_app: AppFactory, store: IngestStore
) -> None:
    async with client_for(make_app(rate_burst=3, rate_per_second=0.01)) as client:
        answers = [
            (await client.post("/v1/articles", json={"uri": "u"}, headers=SUPERDESK)).status_code
            for _ in range(12)
        ]
    assert answers == [422] * 9 + [429] * 3  # three bursts' worth of refusals, then slower
    # the 429s are logged and counted, not announced: a busy sender is not a rejection
    assert len(await queued(store, names.ARTICLES_REJECTED)) == 9


async def test_concurrent_requests_cannot_get_past_the_rate(make_app: AppFactory) -> None:
    good = push_item()
    async with client_for(make_app(rate_burst=2, rate_per_second=0.001)) as client:
        answers = await asyncio.gather(
            *(
                client.post("/v1/articles", json={**good, "version": str(n)}, headers=SUPERDESK)
                for n in range(1, 21)
            )
        )
    assert sorted(a.status_code for a in answers).count(429) >= 18


async def test_a_client_that_keeps_failing_to_authenticate_is_refused_before_its_body(
    make_app: AppFactory,
) -> None:
    async with client_for(make_app(), client=("203.0.113.9", 999)) as client:
        answers = [
            (
                await client.post(
                    "/v1/articles", json={"uri": "u"}, headers={"Authorization": "Bearer wrong"}
                )
            ).status_code
            for _ in range(25)
        ]
    assert answers[:20] == [401] * 20 and set(answers[20:]) == {429}


async def test_superdesk_corrections_and_kills_follow_its_version_numbers(
    make_app: AppFactory, store: IngestStore
) -> None:
    async def push(client: httpx.AsyncClient, doc: dict[str, Any]) -> httpx.Response:
        body = json.dumps(doc).encode()
        return await client.post(
            "/v1/articles",
            content=body,
            headers={"Content-Type": "application/json", **signed(body)},
        )

    item = push_item()
    async with client_for(make_app()) as client:
        assert (await push(client, item)).status_code == 202
        corrected = {**item, "version": "4", "body_html": "<p>The ferry sails again today.</p>"}
        assert (await push(client, corrected)).json()["version"] == 4
        late = await push(client, {**item, "version": "3", "headline": "Old"})
        assert (late.status_code, late.json()["status"]) == (200, "stale")
        killed = await push(client, {**corrected, "version": "5", "pubstatus": "canceled"})
        assert killed.json()["lifecycle"] == "killed"
    events = [e["data"] for e in await queued(store, names.ARTICLES_INGESTED)]
    assert [(e["version"], e["lifecycle"]) for e in events] == [
        (3, "published"),
        (4, "updated"),
        (5, "killed"),
    ]


async def test_versions_without_numbers_are_ordered_by_version_created(
    client: httpx.AsyncClient, store: IngestStore
) -> None:
    def doc(created: str, body: str = "Text.") -> dict[str, Any]:
        return {
            "uri": "urn:v3:1",
            "versionCreated": created,
            "headlines": [{"value": "A story without versions"}],
            "bodies": [{"contentType": "text/plain", "value": body}],
        }

    first = await client.post("/v1/articles", json=doc("2024-01-02T10:00:00Z"), headers=SUPERDESK)
    assert (first.status_code, first.json()["version"]) == (202, 1)
    older = await client.post(
        "/v1/articles", json=doc("2024-01-02T09:00:00Z", "Older."), headers=SUPERDESK
    )
    assert older.json()["status"] == "stale"
    again = await client.post("/v1/articles", json=doc("2024-01-02T10:00:00Z"), headers=SUPERDESK)
    assert again.json()["status"] == "duplicate"
    same_minute = await client.post(  # an edit dated to the same minute: arrival decides
        "/v1/articles", json=doc("2024-01-02T10:00:00Z", "Other."), headers=SUPERDESK
    )
    assert (same_minute.status_code, same_minute.json()["version"]) == (202, 2)
    newer = await client.post(
        "/v1/articles", json=doc("2024-01-02T11:00:00Z", "Newer."), headers=SUPERDESK
    )
    assert (newer.status_code, newer.json()["version"]) == (202, 3)
    assert len(await queued(store, names.ARTICLES_INGESTED)) == 3
