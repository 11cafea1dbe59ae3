"""SQLite adapter: article states, the reader-facing indexes, outbox, processed events."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite
from anyascii import anyascii

from services.publish.domain import Cursor, Outcome, State, from_sort_key, sort_key
from services.publish.formats import media_ids, updated_at
from shared.envelope import Envelope
from shared.events import new_event
from shared.infra.consumer import PROCESSED_SCHEMA, first_time_sync
from shared.infra.db import Database, Migration, ensure_columns, run_script, run_sync
from shared.infra.outbox import OUTBOX_SCHEMA, enqueue_sync
from shared.models import AuthorCard, EnrichedArticle, PublishedArticle
from shared.slugs import slugify

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    uri TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    live TEXT,              -- PublishedArticle JSON: what readers see
    held TEXT,              -- EnrichedArticle JSON waiting for due_at
    due_at TEXT,
    killed INTEGER NOT NULL DEFAULT 0,
    published_at TEXT,      -- the story's own publication date (sort_key): the feed order
    slug TEXT,              -- slug of the live (or last killed) version
    changed_at TEXT NOT NULL,
    modified_at TEXT        -- the live version's modification date (sort_key): lastmod
);
CREATE INDEX IF NOT EXISTS articles_feed ON articles(published_at DESC, uri DESC)
    WHERE live IS NOT NULL;
CREATE INDEX IF NOT EXISTS articles_due ON articles(due_at) WHERE held IS NOT NULL;
-- the newest change of anything a page can show (Last-Modified): one index step
CREATE INDEX IF NOT EXISTS articles_changed ON articles(changed_at);
CREATE TABLE IF NOT EXISTS slugs (slug TEXT PRIMARY KEY, uri TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS article_authors (
    author_slug TEXT NOT NULL, uri TEXT NOT NULL, PRIMARY KEY (author_slug, uri));
CREATE TABLE IF NOT EXISTS article_subjects (
    subject_slug TEXT NOT NULL, uri TEXT NOT NULL, PRIMARY KEY (subject_slug, uri));
-- _index() replaces an article's rows by uri on every publish: without these it scans
CREATE INDEX IF NOT EXISTS article_authors_uri ON article_authors(uri);
CREATE INDEX IF NOT EXISTS article_subjects_uri ON article_subjects(uri);
CREATE TABLE IF NOT EXISTS author_cards (
    slug TEXT PRIMARY KEY, card TEXT NOT NULL, changed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subjects (slug TEXT PRIMARY KEY, name TEXT NOT NULL);
"""


def _v1(conn: sqlite3.Connection) -> None:
    """The schema of the first versioned release (the pushed files' table included); a
    database made before it gets what it lacks, filled from its live articles."""
    from services.publish import assets

    for script in (SCHEMA, OUTBOX_SCHEMA, PROCESSED_SCHEMA, assets.SCHEMA):
        run_script(conn, script)
    ensure_columns(conn, "assets", assets.COLUMNS)
    _add_media_references(conn)
    _add_modified_dates(conn)


def _v2_subject_slugs(conn: sqlite3.Connection) -> None:
    """Subject slugs follow shared/slugs.py (apostrophes join their word, long ones end at a
    word): index the live articles' subjects again under the new slugs, and remember each
    old slug that changed, so its pages and feeds answer with a permanent redirect."""
    conn.execute(
        "CREATE TABLE subject_moves (old TEXT PRIMARY KEY, new TEXT NOT NULL) WITHOUT ROWID"
    )
    for (name,) in conn.execute("SELECT name FROM subjects").fetchall():
        old, new = _release_1_slug(name), slugify(name)
        if old and new and old != new:
            conn.execute("INSERT OR IGNORE INTO subject_moves VALUES (?, ?)", (old, new))
    conn.execute("DELETE FROM article_subjects")
    conn.execute("DELETE FROM subjects")
    for uri, live in conn.execute("SELECT uri, live FROM articles WHERE live IS NOT NULL"):
        names_ = PublishedArticle.model_validate_json(live).subjects
        found = [(slug, name) for name in names_ if (slug := slugify(name))]
        conn.executemany(
            "INSERT OR IGNORE INTO article_subjects VALUES (?, ?)", [(s, uri) for s, _ in found]
        )
        conn.executemany("INSERT OR IGNORE INTO subjects(slug, name) VALUES (?, ?)", found)


def _release_1_slug(text: str) -> str:
    """The subject slug rule before migration 2 (kept here, where it is history)."""
    return re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")[:120]


# schema versions of publish.db, in order (PRAGMA user_version: how many are applied);
# append a step for every change, never edit one that has shipped
MIGRATIONS: tuple[Migration, ...] = (_v1, _v2_subject_slugs)

# The pushed files (/media/<media id>) each live article shows, kept with the article's
# state: the site serves a file only while a live article shows it (assets.py), so the
# pictures of an embargoed or scheduled story stay private until it is released and those
# of a killed story go with it. Made (and filled from the live articles) by `open` when a
# database lacks it.
MEDIA_SCHEMA = (
    "CREATE TABLE article_media (media_id TEXT NOT NULL, uri TEXT NOT NULL,"
    " PRIMARY KEY (media_id, uri))",
    "CREATE INDEX article_media_uri ON article_media(uri)",
)

# The archive sitemaps read only this index (oldest first), never the articles' rows: a
# row has `modified_at` exactly while it is live. Made by `open`, after it has added the
# column to a database made before it.
SITEMAP_INDEX = (
    "CREATE INDEX IF NOT EXISTS articles_sitemap"
    " ON articles(published_at, uri, slug, modified_at) WHERE modified_at IS NOT NULL"
)

_SITEMAP_ROWS = "INDEXED BY articles_sitemap WHERE modified_at IS NOT NULL"

Decide = Callable[[State | None], Outcome | None]
MAX_URIS = 5000  # uris per live_by_uris query (SQLite 3.32+ binds up to 32766)


@dataclass(frozen=True)
class Page:
    """One page of a feed, plus the cursor of the next page (None at the end)."""

    items: list[PublishedArticle]
    next_cursor: Cursor | None


@dataclass(frozen=True)
class SitemapChunk:
    """One file of the archive sitemap: its number (from 1), size and newest lastmod."""

    number: int
    count: int
    lastmod: datetime | None


@dataclass(frozen=True)
class SitemapEntry:
    slug: str
    modified: str  # sort_key text


@dataclass(frozen=True)
class Lookup:
    """What a slug points at: a live article, a killed one, or a renamed one."""

    article: PublishedArticle | None = None
    killed: bool = False
    moved_to: str | None = None


def _state(row: aiosqlite.Row) -> State:
    return State(
        uri=row["uri"],
        version=row["version"],
        revision=row["revision"],
        live=PublishedArticle.model_validate_json(row["live"]) if row["live"] else None,
        held=EnrichedArticle.model_validate_json(row["held"]) if row["held"] else None,
        killed=bool(row["killed"]),
        published_at=from_sort_key(row["published_at"]) if row["published_at"] else None,
    )


def _event(event_type: str, payload: PublishedArticle, now: datetime) -> Envelope[Any]:
    return new_event(event_type, payload, subject=payload.uri, time=now)


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, path: str) -> Store:
        return cls(await Database.open(path, migrations=MIGRATIONS))

    async def close(self) -> None:
        await self.db.close()

    # --- writes ---------------------------------------------------------------

    async def apply(self, event_id: str, uri: str, decide: Decide, now: datetime) -> str | None:
        """Run `decide` on the stored state of `uri` once per event id; returns the event type.

        The whole unit (event id, read, decision, writes, outbox row) is one `run_sync`
        unit, inside the caller's transaction or batch savepoint.
        """
        async with self.db.transaction() as conn:
            return await run_sync(conn, _apply, event_id, uri, decide, now)

    async def release_due(self, decide: Decide, now: datetime) -> list[str]:
        """Run `decide` on every held article whose time has come; returns emitted types."""
        async with self.db.transaction() as conn:
            return await run_sync(conn, _release_due, decide, now)

    async def next_due(self) -> datetime | None:
        row = await self.db.fetchone("SELECT MIN(due_at) FROM articles WHERE held IS NOT NULL")
        return from_sort_key(row[0]) if row and row[0] else None

    # --- reads ----------------------------------------------------------------

    async def state(self, uri: str) -> State | None:
        row = await self.db.fetchone("SELECT * FROM articles WHERE uri = ?", (uri,))
        return _state(row) if row else None

    async def lookup(self, slug: str) -> Lookup | None:
        row = await self.db.fetchone(
            "SELECT a.live, a.killed, a.slug FROM slugs s JOIN articles a ON a.uri = s.uri"
            " WHERE s.slug = ?",
            (slug,),
        )
        if row is None:
            return None
        if row["killed"]:
            return Lookup(killed=True)
        if row["live"] is None:
            return None
        if row["slug"] != slug:
            return Lookup(moved_to=row["slug"])
        return Lookup(article=PublishedArticle.model_validate_json(row["live"]))

    async def feed(
        self,
        *,
        after: Cursor | None = None,
        limit: int = 10,
        author: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
    ) -> Page:
        """Live articles newest first, keyset-paginated on (published_at, uri)."""
        sql = ["SELECT a.uri, a.published_at, a.live FROM articles a"]
        where, params = ["a.live IS NOT NULL"], []
        if author is not None:
            sql.append("JOIN article_authors x ON x.uri = a.uri AND x.author_slug = ?")
            params.append(author)
        if subject is not None:
            sql.append("JOIN article_subjects t ON t.uri = a.uri AND t.subject_slug = ?")
            params.append(subject)
        if after is not None:
            where.append("(a.published_at, a.uri) < (?, ?)")
            params += [after.published_at, after.uri]
        if since is not None:
            where.append("a.published_at >= ?")
            params.append(sort_key(since))
        sql.append("WHERE " + " AND ".join(where))
        sql.append("ORDER BY a.published_at DESC, a.uri DESC LIMIT ?")
        rows = await self.db.fetchall(" ".join(sql), [*params, limit + 1])
        items = [PublishedArticle.model_validate_json(r["live"]) for r in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        return Page(items, Cursor(last["published_at"], last["uri"]) if last else None)

    async def last_change(self) -> datetime | None:
        """When anything a page or feed shows last changed (None: nothing stored yet)."""
        row = await self.db.fetchone("SELECT MAX(changed_at) FROM articles")
        return from_sort_key(row[0]) if row and row[0] else None

    async def sitemap_chunks(self, size: int) -> list[SitemapChunk]:
        """The live articles, oldest first, cut into files of `size`: each file's count and
        newest modification. Range reads of the sitemap index only (no article is read,
        nothing is sorted): about 30 ms for 100,000 stories."""
        row = await self.db.fetchone(f"SELECT COUNT(*) FROM articles {_SITEMAP_ROWS}")
        total = row[0] if row else 0
        chunks = []
        for number in range(1, -(-total // size) + 1):
            newest = await self.db.fetchone(
                "SELECT MAX(modified_at) FROM (SELECT modified_at FROM articles"
                f" {_SITEMAP_ROWS} ORDER BY published_at, uri LIMIT ? OFFSET ?)",
                (size, (number - 1) * size),
            )
            count = min(size, total - (number - 1) * size)
            lastmod = from_sort_key(newest[0]) if newest and newest[0] else None
            chunks.append(SitemapChunk(number, count, lastmod))
        return chunks

    async def sitemap_entries(self, number: int, size: int) -> list[SitemapEntry]:
        """The articles of sitemap file `number` (from 1), oldest first, off the index;
        their modification dates as stored (`sort_key` text, turned into W3C dates by
        the sitemap without parsing each)."""
        rows = await self.db.fetchall(
            f"SELECT slug, modified_at FROM articles {_SITEMAP_ROWS}"
            " ORDER BY published_at, uri LIMIT ? OFFSET ?",
            (size, (number - 1) * size),
        )
        return [SitemapEntry(r[0], r[1]) for r in rows if r[0]]

    async def author_card(self, slug: str) -> AuthorCard | None:
        row = await self.db.fetchone("SELECT card FROM author_cards WHERE slug = ?", (slug,))
        return AuthorCard.model_validate_json(row["card"]) if row else None

    async def subject_name(self, slug: str) -> str | None:
        row = await self.db.fetchone("SELECT name FROM subjects WHERE slug = ?", (slug,))
        return str(row["name"]) if row else None

    async def subject_moved(self, slug: str) -> str | None:
        """The slug a subject has now, when `slug` is what an older release called it."""
        row = await self.db.fetchone("SELECT new FROM subject_moves WHERE old = ?", (slug,))
        return str(row["new"]) if row else None

    async def live_slugs(self, slugs: list[str]) -> set[str]:
        """Which of these slugs name a live article right now."""
        if not slugs:
            return set()
        marks = ",".join("?" * len(slugs))
        rows = await self.db.fetchall(
            f"SELECT slug FROM articles WHERE live IS NOT NULL AND slug IN ({marks})", slugs
        )
        return {r["slug"] for r in rows}

    async def live_by_uris(self, uris: Iterable[str]) -> dict[str, PublishedArticle]:
        """The live version of each of these uris that has one (a package's members)."""
        wanted = list(dict.fromkeys(uris))[:MAX_URIS]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = await self.db.fetchall(
            f"SELECT uri, live FROM articles WHERE live IS NOT NULL AND uri IN ({marks})", wanted
        )
        return {r["uri"]: PublishedArticle.model_validate_json(r["live"]) for r in rows}

    async def outbox(self) -> list[dict[str, str]]:
        """Every queued event's stream fields, oldest first (for tests and ops)."""
        rows = await self.db.fetchall("SELECT fields FROM outbox ORDER BY seq")
        return [json.loads(r["fields"]) for r in rows]


# --- the write path: plain sqlite3 functions, each run as one `run_sync` unit ----------


def _apply(
    conn: sqlite3.Connection, event_id: str, uri: str, decide: Decide, now: datetime
) -> str | None:
    if not first_time_sync(conn, event_id):
        return None
    return _decide_and_save(conn, uri, decide, now)


def _release_due(conn: sqlite3.Connection, decide: Decide, now: datetime) -> list[str]:
    due = conn.execute(
        "SELECT uri FROM articles WHERE held IS NOT NULL AND due_at <= ? ORDER BY due_at",
        (sort_key(now),),
    ).fetchall()
    emitted = [_decide_and_save(conn, row["uri"], decide, now) for row in due]
    return [event_type for event_type in emitted if event_type]


def _decide_and_save(
    conn: sqlite3.Connection, uri: str, decide: Decide, now: datetime
) -> str | None:
    row = conn.execute("SELECT * FROM articles WHERE uri = ?", (uri,)).fetchone()
    outcome = decide(_state(row) if row else None)
    if outcome is None:
        return None
    _save(conn, outcome.state, now)
    if outcome.event_type and outcome.payload is not None:
        enqueue_sync(conn, _event(outcome.event_type, outcome.payload, now))
    return outcome.event_type


def _save(conn: sqlite3.Connection, state: State, now: datetime) -> None:
    live, held = state.live, state.held
    slug = live.slug if live else None
    conn.execute(
        "INSERT INTO articles(uri, version, revision, live, held, due_at, killed,"
        " published_at, slug, changed_at, modified_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(uri) DO UPDATE SET version=excluded.version,"
        " revision=excluded.revision, live=excluded.live, held=excluded.held,"
        " due_at=excluded.due_at, killed=excluded.killed,"
        " published_at=excluded.published_at, slug=COALESCE(excluded.slug, slug),"
        " changed_at=excluded.changed_at, modified_at=excluded.modified_at",
        (
            state.uri,
            state.version,
            state.revision,
            live.model_dump_json() if live else None,
            held.model_dump_json() if held else None,
            sort_key(state.due_at) if state.due_at else None,
            int(state.killed),
            sort_key(state.published_at) if state.published_at else None,
            slug,
            sort_key(now),
            sort_key(updated_at(live)) if live else None,
        ),
    )
    _index(conn, state.uri, live, now)


def _index(
    conn: sqlite3.Connection, uri: str, live: PublishedArticle | None, now: datetime
) -> None:
    """Keep the author, subject, slug and media indexes in step with what is live."""
    conn.execute("DELETE FROM article_authors WHERE uri = ?", (uri,))
    conn.execute("DELETE FROM article_subjects WHERE uri = ?", (uri,))
    conn.execute("DELETE FROM article_media WHERE uri = ?", (uri,))
    if live is None:
        return
    _reference_media(conn, uri, live)
    conn.execute("INSERT OR REPLACE INTO slugs(slug, uri) VALUES (?, ?)", (live.slug, uri))
    cards = [card for card in live.authors if card.slug]
    if cards:
        conn.executemany(
            "INSERT OR IGNORE INTO article_authors VALUES (?, ?)",
            [(card.slug, uri) for card in cards],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO author_cards(slug, card, changed_at) VALUES (?, ?, ?)",
            [(card.slug, card.model_dump_json(), sort_key(now)) for card in cards],
        )
    subjects = [(slug, name) for name in live.subjects if (slug := slugify(name))]
    if subjects:
        conn.executemany(
            "INSERT OR IGNORE INTO article_subjects VALUES (?, ?)",
            [(slug, uri) for slug, _ in subjects],
        )
        conn.executemany("INSERT OR IGNORE INTO subjects(slug, name) VALUES (?, ?)", subjects)


def _reference_media(conn: sqlite3.Connection, uri: str, live: PublishedArticle) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO article_media(media_id, uri) VALUES (?, ?)",
        [(media_id, uri) for media_id in sorted(media_ids(live))],
    )


def _add_media_references(conn: sqlite3.Connection) -> None:
    """Make `article_media` in a database made before it, from the live articles."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'article_media'"
    ).fetchone()
    if found is not None:
        return
    for statement in MEDIA_SCHEMA:
        conn.execute(statement)
    for row in conn.execute("SELECT uri, live FROM articles WHERE live IS NOT NULL"):
        _reference_media(conn, row[0], PublishedArticle.model_validate_json(row[1]))


def _add_modified_dates(conn: sqlite3.Connection) -> None:
    """Give a database made before `modified_at` the column, filled from the live
    articles, and the sitemap index over it."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
    if "modified_at" not in have:
        conn.execute("ALTER TABLE articles ADD COLUMN modified_at TEXT")
        rows = conn.execute("SELECT uri, live FROM articles WHERE live IS NOT NULL").fetchall()
        conn.executemany(
            "UPDATE articles SET modified_at = ? WHERE uri = ?",
            [
                (sort_key(updated_at(PublishedArticle.model_validate_json(r[1]))), r[0])
                for r in rows
            ],
        )
    conn.execute(SITEMAP_INDEX)
