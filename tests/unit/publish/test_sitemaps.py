"""The archive sitemap (an index of files of at most 50,000 URLs) beside the news sitemap,
both named in robots.txt; reads that stay on an index at 100,000 stories."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import aiosqlite
import httpx

from services.publish import domain
from services.publish.store import Store
from shared.infra.db import run_sync
from tests.unit.publish.conftest import BASE_URL, Publisher
from tests.unit.publish.factories import Clock, simple_story

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
OLDEST = datetime(2020, 1, 1, tzinfo=UTC)


def _archive(conn: sqlite3.Connection, count: int) -> None:
    """`count` live rows, a minute apart from OLDEST, as the sitemap reads them."""
    rows = []
    for n in range(count):
        key = domain.sort_key(OLDEST + timedelta(minutes=n))
        rows.append((f"urn:archive:{n:06d}", key, f"archive-{n}", key, key))
    conn.executemany(
        "INSERT INTO articles(uri, version, revision, live, published_at, slug, changed_at,"
        " modified_at) VALUES (?, 1, 0, '{}', ?, ?, ?, ?)",
        rows,
    )


async def archive(store: Store, count: int) -> None:
    async with store.db.transaction() as conn:
        await run_sync(conn, _archive, count)


def locs(xml: bytes) -> list[str | None]:
    return [e.text for e in ET.fromstring(xml).iter(f"{SM}loc")]


async def test_the_archive_sitemap_lists_every_live_story_oldest_first_with_its_lastmod(
    client: httpx.AsyncClient, publish: Publisher, clock: Clock
) -> None:
    created = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    await publish(simple_story(1, firstcreated=created, versioncreated=created))
    await publish(simple_story(2))
    await publish(simple_story(3))
    await publish(simple_story(3, version=2, lifecycle="killed"))
    await publish(simple_story(4, embargoed=clock() + timedelta(hours=1)))
    clock.advance(hours=2)
    edited = clock()
    await publish(simple_story(2, version=2, versioncreated=edited), tick=False)

    index = ET.fromstring((await client.get("/sitemap.xml")).content)
    files = index.findall(f"{SM}sitemap")
    assert [f.findtext(f"{SM}loc") for f in files] == [f"{BASE_URL}/sitemaps/articles-1.xml"]
    assert files[0].findtext(f"{SM}lastmod") == domain.w3c_datetime(domain.sort_key(edited))

    answer = await client.get("/sitemaps/articles-1.xml")
    assert answer.headers["content-type"].startswith("application/xml")
    urls = ET.fromstring(answer.content).findall(f"{SM}url")
    assert [(u.findtext(f"{SM}loc"), u.findtext(f"{SM}lastmod")) for u in urls] == [
        (f"{BASE_URL}/articles/story-number-1", "2024-05-01T08:00:00Z"),
        (f"{BASE_URL}/articles/story-number-2", domain.w3c_datetime(domain.sort_key(edited))),
    ]  # not the killed story, nor the embargoed one


async def test_the_sitemap_index_splits_the_archive_at_50000_urls_per_file(
    client: httpx.AsyncClient, store: Store
) -> None:
    await archive(store, 50_001)
    index = ET.fromstring((await client.get("/sitemap.xml")).content)
    files = [
        (f.findtext(f"{SM}loc"), f.findtext(f"{SM}lastmod")) for f in index.iter(f"{SM}sitemap")
    ]
    newest_of_first = OLDEST + timedelta(minutes=49_999)
    assert files == [
        (f"{BASE_URL}/sitemaps/articles-1.xml", newest_of_first.strftime("%Y-%m-%dT%H:%M:%SZ")),
        (f"{BASE_URL}/sitemaps/articles-2.xml", "2020-02-04T17:20:00Z"),
    ]
    first = locs((await client.get("/sitemaps/articles-1.xml")).content)
    assert len(first) == 50_000
    assert first[0] == f"{BASE_URL}/articles/archive-0"
    assert first[-1] == f"{BASE_URL}/articles/archive-49999"
    assert locs((await client.get("/sitemaps/articles-2.xml")).content) == [
        f"{BASE_URL}/articles/archive-50000"
    ]
    for missing in (
        "/sitemaps/articles-3.xml",
        "/sitemaps/articles-0.xml",
        "/sitemaps/articles-x.xml",
    ):
        assert (await client.get(missing)).status_code == 404, missing


async def test_an_empty_site_has_an_empty_index_and_an_empty_first_file(
    client: httpx.AsyncClient,
) -> None:
    assert locs((await client.get("/sitemap.xml")).content) == []
    answer = await client.get("/sitemaps/articles-1.xml")
    assert answer.status_code == 200 and locs(answer.content) == []


async def test_robots_txt_names_the_archive_and_the_news_sitemaps(
    client: httpx.AsyncClient,
) -> None:
    robots = (await client.get("/robots.txt")).text.splitlines()
    assert robots == [
        "User-agent: *",
        "Allow: /",
        f"Sitemap: {BASE_URL}/sitemap.xml",
        f"Sitemap: {BASE_URL}/sitemap-news.xml",
    ]


async def test_at_100000_stories_the_sitemaps_read_only_their_index(tmp_path: Path) -> None:
    store = await Store.open(str(tmp_path / "publish.db"))
    try:
        await archive(store, 100_000)
        statements: list[str] = []
        await store.db._reader.set_trace_callback(statements.append)  # reads run here
        chunks = await store.sitemap_chunks(50_000)
        entries = await store.sitemap_entries(2, 50_000)
        changed = await store.last_change()
        await store.db._reader.set_trace_callback(None)  # type: ignore[arg-type]
        assert [c.count for c in chunks] == [50_000, 50_000] and len(entries) == 50_000
        assert changed == OLDEST + timedelta(minutes=99_999)
        plans = set()
        for sql in dict.fromkeys(statements):
            rows = await store.db.fetchall("EXPLAIN QUERY PLAN " + sql)
            plans |= {row[3] for row in rows if not row[3].startswith("CO-ROUTINE")}
        # range reads of covering indexes, in their order: the articles' rows (their JSON)
        # are never read, and nothing is sorted
        assert {p for p in plans if "articles" in p.split()} == {
            "SCAN articles USING COVERING INDEX articles_sitemap",
            "SEARCH articles USING COVERING INDEX articles_changed",
        }
        assert not [p for p in plans if "TEMP B-TREE" in p]
    finally:
        await store.close()


async def test_a_database_made_before_modified_dates_gets_them_from_its_live_stories(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "publish.db")
    store = await Store.open(path)
    clock = Clock(datetime(2025, 2, 4, 10, 0, tzinfo=UTC))
    older = Publisher(store, clock)
    await older(simple_story(1))
    await older(simple_story(2))
    await older(simple_story(2, version=2, lifecycle="killed"))
    await store.close()
    async with aiosqlite.connect(path) as conn:  # as an earlier release left it
        await conn.execute("DROP INDEX articles_sitemap")
        await conn.execute("ALTER TABLE articles DROP COLUMN modified_at")
        await conn.execute("DROP TABLE subject_moves")  # made by a later migration
        await conn.execute("PRAGMA user_version = 0")  # releases before it kept no version
        await conn.commit()

    store = await Store.open(path)
    try:
        rows = await store.db.fetchall("SELECT uri, modified_at FROM articles ORDER BY uri")
        assert [tuple(r) for r in rows] == [
            ("urn:test:story:1", domain.sort_key(datetime(2025, 2, 4, 10, 0, 1, tzinfo=UTC))),
            ("urn:test:story:2", None),
        ]
        assert [e.slug for e in await store.sitemap_entries(1, 10)] == ["story-number-1"]
    finally:
        await store.close()
