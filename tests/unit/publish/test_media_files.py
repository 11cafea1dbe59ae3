"""Pushed files at /media/<id>: shown only while a live story shows them, in byte ranges,
read in chunks, and never replaced by an older copy."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.publish import domain
from services.publish.assets import CHUNK, AssetStore, FileChanged, Unsatisfiable, byte_range
from services.publish.store import Store
from shared.models import Asset, EnrichedArticle, Image
from tests.unit.publish.conftest import START, Publisher
from tests.unit.publish.factories import (
    Clock,
    enriched_event,
    package_item,
    picture_item,
    simple_story,
    video_item,
)

PICTURE = b"\xff\xd8\xff\xe0 a picture of the harbour \xff\xd9"


def pushed(
    media_id: str,
    content: bytes = PICTURE,
    *,
    stored_at: datetime | None = START,
    mime_type: str = "image/jpeg",
) -> Asset:
    """An `assets.stored` payload, as ingest sends it."""
    return Asset(
        media_id=media_id,
        mime_type=mime_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=base64.b64encode(content).decode(),
        source="superdesk",
        stored_at=stored_at,
    )


def with_lead(n: int, href: str, **changes: object) -> EnrichedArticle:
    return simple_story(n, lead_image=Image(href=href, caption="The harbour."), **changes)


async def status(client: httpx.AsyncClient, path: str) -> int:
    return (await client.get(path)).status_code


# --- only what a live story shows ------------------------------------------------------------


async def test_a_pushed_file_is_served_only_while_a_live_story_shows_it(
    client: httpx.AsyncClient, publish: Publisher, assets: AssetStore
) -> None:
    await assets.keep(pushed("picture-1-large.jpg"))
    assert await status(client, "/media/picture-1-large.jpg") == 404  # no story shows it yet

    await publish(picture_item(1))
    served = await client.get("/media/picture-1-large.jpg")
    assert served.status_code == 200 and served.content == PICTURE
    assert served.headers["content-type"] == "image/jpeg"

    await publish(picture_item(1, version=2, lifecycle="killed"))
    assert await status(client, "/media/picture-1-large.jpg") == 404


async def test_the_pictures_of_an_embargoed_story_are_private_until_its_release(
    client: httpx.AsyncClient, publish: Publisher, store: Store, assets: AssetStore, clock: Clock
) -> None:
    embargo = START + timedelta(hours=1)
    await assets.keep(pushed("lead-7.jpg"))
    await publish(with_lead(7, "/media/lead-7.jpg", embargoed=embargo))
    assert await status(client, "/media/lead-7.jpg") == 404

    clock.now = embargo + timedelta(seconds=1)
    moment = clock()
    await store.release_due(lambda s: domain.release(s, moment), moment)
    assert await status(client, "/media/lead-7.jpg") == 200


async def test_a_scheduled_update_keeps_the_live_versions_pictures_until_it_is_released(
    client: httpx.AsyncClient, publish: Publisher, store: Store, assets: AssetStore, clock: Clock
) -> None:
    for media_id in ("old.jpg", "new.jpg"):
        await assets.keep(pushed(media_id))
    await publish(with_lead(1, "/media/old.jpg"))
    due = START + timedelta(hours=2)
    await publish(with_lead(1, "/media/new.jpg", version=2, publish_at=due))
    assert (await status(client, "/media/old.jpg"), await status(client, "/media/new.jpg")) == (
        200,
        404,
    )

    clock.now = due
    await store.release_due(lambda s: domain.release(s, due), due)
    assert (await status(client, "/media/old.jpg"), await status(client, "/media/new.jpg")) == (
        404,
        200,
    )


async def test_the_body_images_and_links_of_a_story_are_served_and_dropped_with_it(
    client: httpx.AsyncClient, publish: Publisher, assets: AssetStore
) -> None:
    for media_id in ("lead.jpg", "inline/chart.png", "report.pdf", "elsewhere.jpg"):
        await assets.keep(pushed(media_id))
    body = (
        '<p>Text.</p><figure><img src="/media/inline/chart.png" alt="A chart"></figure>'
        '<p><a href="/media/report.pdf?download=1" rel="noopener noreferrer">The report</a></p>'
        "<p>src=&quot;/media/elsewhere.jpg&quot; is only text here.</p>"
    )
    await publish(with_lead(1, "/media/lead.jpg", body_html=body))
    for path in ("/media/lead.jpg", "/media/inline/chart.png", "/media/report.pdf"):
        assert await status(client, path) == 200, path
    assert await status(client, "/media/elsewhere.jpg") == 404

    await publish(simple_story(1, version=2, body_html='<p><img src="/media/lead.jpg"></p>'))
    assert await status(client, "/media/lead.jpg") == 200
    assert await status(client, "/media/inline/chart.png") == 404
    assert await status(client, "/media/report.pdf") == 404


async def test_the_other_sizes_pushed_of_a_picture_the_story_shows_are_served_with_it(
    client: httpx.AsyncClient, publish: Publisher, assets: AssetStore
) -> None:
    def picture(*names: str) -> dict[str, object]:
        return {
            "type": "picture",
            "renditions": {n: {"href": f"cms/{n}", "media": n} for n in names},
        }

    ninjs = {  # Superdesk's associations and renditions, keyed by name
        "associations": {
            "featuremedia": picture("original", "baseImage", "thumbnail"),
            "editor_0": picture("unshown-original", "unshown-base"),
        }
    }
    for media_id in ("original", "baseImage", "thumbnail", "unshown-original", "unshown-base"):
        await assets.keep(pushed(media_id))
    await publish(with_lead(1, "/media/baseImage", ninjs=ninjs))
    for media_id in ("original", "baseImage", "thumbnail"):
        assert await status(client, f"/media/{media_id}") == 200, media_id
    for media_id in ("unshown-original", "unshown-base"):
        assert await status(client, f"/media/{media_id}") == 404, media_id

    await publish(simple_story(1, version=2, lifecycle="killed"))
    assert await status(client, "/media/original") == 404


async def test_a_file_two_live_stories_show_stays_up_until_neither_shows_it(
    client: httpx.AsyncClient, publish: Publisher, assets: AssetStore
) -> None:
    await assets.keep(pushed("shared.jpg"))
    await publish(with_lead(1, "/media/shared.jpg"))
    await publish(with_lead(2, "/media/shared.jpg"))
    await publish(simple_story(1, version=2, lifecycle="killed"))
    assert await status(client, "/media/shared.jpg") == 200
    await publish(simple_story(2, version=2))  # the update drops the picture
    assert await status(client, "/media/shared.jpg") == 404


async def test_a_videos_files_and_poster_and_a_packages_own_picture_are_served(
    client: httpx.AsyncClient, publish: Publisher, assets: AssetStore
) -> None:
    for media_id in ("video-1.mp4", "video-1-poster.jpg", "package-cover.jpg"):
        await assets.keep(pushed(media_id))
    await publish(video_item(1))
    await publish(package_item(1, [], lead_image=Image(href="/media/package-cover.jpg")))
    for path in ("/media/video-1.mp4", "/media/video-1-poster.jpg", "/media/package-cover.jpg"):
        assert await status(client, path) == 200, path


# --- caching ---------------------------------------------------------------------------------


async def test_a_file_is_cached_for_an_hour_and_revalidated_by_its_sha256(
    client: httpx.AsyncClient, publish: Publisher, assets: AssetStore
) -> None:
    await assets.keep(pushed("lead.jpg"))
    await publish(with_lead(1, "/media/lead.jpg"))
    served = await client.get("/media/lead.jpg")
    etag = f'"{hashlib.sha256(PICTURE).hexdigest()}"'
    assert served.headers["cache-control"] == "public, max-age=3600"
    assert served.headers["etag"] == etag
    for asked in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await client.get("/media/lead.jpg", headers={"If-None-Match": asked})
        assert again.status_code == 304 and again.content == b"", asked
    other = await client.get("/media/lead.jpg", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.content == PICTURE


# --- byte ranges and chunks ------------------------------------------------------------------

FILE = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
async def video(client: httpx.AsyncClient, publish: Publisher, assets: AssetStore) -> str:
    await assets.keep(pushed("video-1.mp4", FILE, mime_type="video/mp4"))
    await publish(video_item(1))
    return "/media/video-1.mp4"


@pytest.mark.parametrize(
    ("asked", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-24", 1000, 1023),
        ("bytes=-5000", 0, 1023),  # more than the file: all of it
        ("bytes=1000-5000", 1000, 1023),  # past the end: up to the end
        ("BYTES = 5 - 5", 5, 5),
    ],
)
async def test_a_single_byte_range_is_answered_206_with_its_content_range(
    client: httpx.AsyncClient, video: str, asked: str, first: int, last: int
) -> None:
    served = await client.get(video, headers={"Range": asked})
    assert served.status_code == 206
    assert served.headers["content-range"] == f"bytes {first}-{last}/1024"
    assert served.headers["content-length"] == str(last - first + 1)
    assert served.headers["content-type"] == "video/mp4"
    assert served.content == FILE[first : last + 1]


@pytest.mark.parametrize("asked", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
async def test_a_range_past_the_end_of_the_file_is_answered_416(
    client: httpx.AsyncClient, video: str, asked: str
) -> None:
    served = await client.get(video, headers={"Range": asked})
    assert served.status_code == 416
    assert served.headers["content-range"] == "bytes */1024"


@pytest.mark.parametrize(
    "asked", ["bytes=0-1,5-9", "bytes=9-1", "items=0-9", "bytes=", "bytes=-", "nonsense"]
)
async def test_several_ranges_or_a_malformed_one_get_the_whole_file(
    client: httpx.AsyncClient, video: str, asked: str
) -> None:
    served = await client.get(video, headers={"Range": asked})
    assert served.status_code == 200 and served.content == FILE
    assert served.headers["accept-ranges"] == "bytes"


async def test_a_range_for_an_older_copy_of_the_file_gets_the_whole_current_one(
    client: httpx.AsyncClient, video: str
) -> None:
    etag = (await client.get(video)).headers["etag"]
    same = await client.get(video, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and same.content == FILE[:10]
    older = await client.get(video, headers={"Range": "bytes=0-9", "If-Range": '"older"'})
    assert older.status_code == 200 and older.content == FILE


async def test_head_answers_the_headers_only(client: httpx.AsyncClient, video: str) -> None:
    whole = await client.head(video)
    assert whole.status_code == 200 and whole.content == b""
    assert whole.headers["content-length"] == "1024"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    part = await client.head(video, headers={"Range": "bytes=0-1"})
    assert part.status_code == 206 and part.content == b""
    assert part.headers["content-range"] == "bytes 0-1/1024"
    assert part.headers["content-length"] == "2"


async def test_a_large_file_is_read_in_chunks_and_sent_whole_and_in_ranges_across_them(
    client: httpx.AsyncClient, publish: Publisher, assets: AssetStore
) -> None:
    big = hashlib.sha256(b"seed").digest() * (2 * CHUNK // 32) + b"tail"  # 2 chunks and 4 bytes
    await assets.keep(pushed("video-1.mp4", big, mime_type="video/mp4"))
    await publish(video_item(1))

    found = await assets.served("video-1.mp4")
    assert found is not None and found.size == len(big)
    chunks = [chunk async for chunk in assets.read(found, 0, found.size)]
    assert [len(c) for c in chunks] == [CHUNK, CHUNK, 4]
    assert b"".join(chunks) == big

    assert (await client.get("/media/video-1.mp4")).content == big
    first, last = CHUNK - 10, CHUNK + 9
    across = await client.get("/media/video-1.mp4", headers={"Range": f"bytes={first}-{last}"})
    assert across.status_code == 206 and across.content == big[first : last + 1]


async def test_a_file_replaced_while_it_is_being_sent_stops_the_answer(
    publish: Publisher, assets: AssetStore
) -> None:
    big = b"a" * (2 * CHUNK)
    await assets.keep(pushed("video-1.mp4", big, mime_type="video/mp4"))
    await publish(video_item(1))
    found = await assets.served("video-1.mp4")
    assert found is not None
    reading = assets.read(found, 0, found.size)
    assert await anext(reading) == b"a" * CHUNK
    await assets.keep(
        pushed("video-1.mp4", b"b" * (2 * CHUNK), stored_at=START + timedelta(minutes=1))
    )
    with pytest.raises(FileChanged):
        await anext(reading)


@pytest.mark.parametrize(
    ("asked", "size", "expected"),
    [
        ("bytes=0-0", 1, (0, 0)),
        ("bytes=-1", 1, (0, 0)),
        ("bytes=0-", 10, (0, 9)),
        ("bytes=3-2", 10, None),
        ("bytes=1-2, 4-5", 10, None),
    ],
)
def test_byte_range_reads_one_range_of_a_file_of_a_given_size(
    asked: str, size: int, expected: tuple[int, int] | None
) -> None:
    assert byte_range(asked, size) == expected


@pytest.mark.parametrize("asked", ["bytes=0-", "bytes=-1", "bytes=0-0"])
def test_no_range_of_an_empty_file_can_be_satisfied(asked: str) -> None:
    with pytest.raises(Unsatisfiable):
        byte_range(asked, 0)


# --- a redelivered old file ------------------------------------------------------------------


async def test_a_redelivered_older_file_never_replaces_a_newer_one(
    client: httpx.AsyncClient, publish: Publisher, assets: AssetStore
) -> None:
    await publish(with_lead(1, "/media/lead.jpg"))
    await assets.keep(pushed("lead.jpg", b"second", stored_at=START + timedelta(minutes=2)))
    await assets.keep(pushed("lead.jpg", b"first", stored_at=START + timedelta(minutes=1)))
    assert (await client.get("/media/lead.jpg")).content == b"second"
    await assets.keep(pushed("lead.jpg", b"undated", stored_at=None))
    assert (await client.get("/media/lead.jpg")).content == b"second"
    await assets.keep(pushed("lead.jpg", b"third", stored_at=START + timedelta(minutes=3)))
    served = await client.get("/media/lead.jpg")
    assert served.content == b"third"
    assert served.headers["etag"] == f'"{hashlib.sha256(b"third").hexdigest()}"'


async def apply(store: Store, article: EnrichedArticle, moment: datetime) -> None:
    await store.apply(
        enriched_event(article).id,
        article.uri,
        lambda state: domain.receive(state, article, moment),
        moment,
    )


# --- databases made by an older release ------------------------------------------------------

OLD_ASSETS = """
CREATE TABLE assets (
    media_id TEXT PRIMARY KEY,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL
);
"""


async def test_a_database_made_before_stored_at_gets_it_and_a_dated_file_replaces_an_old_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "publish.db"
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_ASSETS)
        conn.execute(
            "INSERT INTO assets VALUES ('lead.jpg', 'image/jpeg', 3, ?, ?)",
            (hashlib.sha256(b"old").hexdigest(), b"old"),
        )
    conn.close()
    store = await Store.open(str(path))
    try:
        assets = await AssetStore.open(store.db)
        await assets.keep(pushed("lead.jpg", b"undated", stored_at=None))
        await assets.keep(pushed("lead.jpg", b"new", stored_at=START))
        row = await store.db.fetchone("SELECT content, stored_at FROM assets")
        assert row is not None and (bytes(row[0]), row[1]) == (b"new", domain.sort_key(START))
    finally:
        await store.close()


async def test_a_database_made_before_media_references_serves_the_files_its_live_stories_show(
    tmp_path: Path, clock: Clock
) -> None:
    path = str(tmp_path / "publish.db")
    store = await Store.open(path)
    for story in (
        with_lead(1, "/media/live.jpg"),
        with_lead(2, "/media/killed.jpg"),
        simple_story(2, version=2, lifecycle="killed"),
    ):
        await apply(store, story, clock())
    assets = await AssetStore.open(store.db)
    for media_id in ("live.jpg", "killed.jpg"):
        await assets.keep(pushed(media_id))
    async with store.db.transaction() as conn:  # as a database of the release before
        await conn.execute("DROP TABLE article_media")
        await conn.execute("DROP TABLE subject_moves")  # made by a later migration
        await conn.execute("PRAGMA user_version = 0")  # releases before it kept no version
    await store.close()

    store = await Store.open(path)
    try:
        assets = await AssetStore.open(store.db)
        assert await assets.served("live.jpg") is not None
        assert await assets.served("killed.jpg") is None
    finally:
        await store.close()
