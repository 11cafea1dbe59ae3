"""SQLite state of enrichment: author directory, article archive, who links to whom."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from shared import names
from shared.envelope import Envelope
from shared.infra.consumer import PROCESSED_SCHEMA, first_time
from shared.infra.db import Database
from shared.infra.outbox import OUTBOX_SCHEMA, enqueue
from shared.models import AuthorProfile, EnrichedArticle

SCHEMA = """
CREATE TABLE IF NOT EXISTS authors (
    slug TEXT PRIMARY KEY,
    profile TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    uri TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    killed INTEGER NOT NULL,
    enriched TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS article_names (
    uri TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    slug TEXT,
    PRIMARY KEY (uri, key)
);
CREATE INDEX IF NOT EXISTS article_names_key ON article_names(key);
CREATE INDEX IF NOT EXISTS article_names_slug ON article_names(slug);
CREATE TABLE IF NOT EXISTS links (
    uri TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (uri, target)
);
CREATE INDEX IF NOT EXISTS links_target ON links(target);
"""

ALL_SCHEMA = (OUTBOX_SCHEMA, PROCESSED_SCHEMA, SCHEMA)


class Store:
    """Reads anywhere; writes only inside `transaction()` (one serialized writer)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, path: str) -> Store:
        return cls(await Database.open(path, schema=ALL_SCHEMA))

    async def close(self) -> None:
        await self.db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.db.transaction() as conn:
            yield Tx(conn)

    # -- reads ---------------------------------------------------------------------

    async def profiles(self) -> list[AuthorProfile]:
        rows = await self.db.fetchall("SELECT profile FROM authors ORDER BY slug")
        return [AuthorProfile.model_validate_json(r["profile"]) for r in rows]

    async def archive(self) -> list[EnrichedArticle]:
        """Every live article, in the order they entered the archive."""
        rows = await self.db.fetchall(
            "SELECT enriched FROM articles WHERE killed = 0 ORDER BY rowid")
        return [EnrichedArticle.model_validate_json(r["enriched"]) for r in rows]

    async def enriched(self, uri: str) -> EnrichedArticle | None:
        row = await self.db.fetchone("SELECT enriched FROM articles WHERE uri = ?", (uri,))
        return EnrichedArticle.model_validate_json(row["enriched"]) if row else None

    async def unknown_authors(self) -> list[dict[str, Any]]:
        """Byline names not in the directory, with how many live articles carry them."""
        rows = await self.db.fetchall(
            "SELECT MIN(n.name) AS name, COUNT(*) AS count FROM article_names n"
            " JOIN articles a ON a.uri = n.uri"
            " WHERE n.slug IS NULL AND a.killed = 0"
            " GROUP BY n.key ORDER BY count DESC, n.key")
        return [{"name": r["name"], "count": r["count"]} for r in rows]


class Tx:
    """The statements of one write transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def first_time(self, event_id: str) -> bool:
        return await first_time(self.conn, event_id)

    async def version(self, uri: str) -> int | None:
        async with self.conn.execute("SELECT version FROM articles WHERE uri = ?", (uri,)) as c:
            row = await c.fetchone()
        return int(row[0]) if row else None

    async def enriched(self, uri: str) -> EnrichedArticle | None:
        async with self.conn.execute("SELECT enriched FROM articles WHERE uri = ?", (uri,)) as c:
            row = await c.fetchone()
        return EnrichedArticle.model_validate_json(row[0]) if row else None

    async def profile(self, slug: str) -> AuthorProfile | None:
        async with self.conn.execute("SELECT profile FROM authors WHERE slug = ?", (slug,)) as c:
            row = await c.fetchone()
        return AuthorProfile.model_validate_json(row[0]) if row else None

    async def save_profile(self, profile: AuthorProfile) -> None:
        await self.conn.execute(
            "INSERT INTO authors(slug, profile) VALUES (?, ?)"
            " ON CONFLICT(slug) DO UPDATE SET profile = excluded.profile",
            (profile.slug, profile.model_dump_json()))

    async def save(self, enriched: EnrichedArticle, *, killed: bool,
                   names_rows: Iterable[tuple[str, str, str | None]]) -> None:
        """Store an enriched version with its byline names and outgoing links."""
        uri = enriched.uri
        await self.conn.execute(
            "INSERT INTO articles(uri, version, revision, killed, enriched) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(uri) DO UPDATE SET version = excluded.version,"
            " revision = excluded.revision, killed = excluded.killed,"
            " enriched = excluded.enriched",
            (uri, enriched.version, enriched.enrichment_revision, int(killed),
             enriched.model_dump_json()))
        await self.conn.execute("DELETE FROM article_names WHERE uri = ?", (uri,))
        await self.conn.executemany(
            "INSERT OR IGNORE INTO article_names(uri, key, name, slug) VALUES (?, ?, ?, ?)",
            [(uri, key, name, slug) for key, name, slug in names_rows])
        await self.conn.execute("DELETE FROM links WHERE uri = ?", (uri,))
        await self.conn.executemany(
            "INSERT OR IGNORE INTO links(uri, target) VALUES (?, ?)",
            [(uri, link.uri) for link in enriched.related])

    async def emit(self, event: Envelope[EnrichedArticle]) -> None:
        await enqueue(self.conn, names.ARTICLES_ENRICHED, event)

    async def linking_to(self, target: str) -> list[str]:
        async with self.conn.execute(
            "SELECT uri FROM links WHERE target = ? ORDER BY uri", (target,)) as c:
            return [r[0] for r in await c.fetchall()]

    async def naming(self, keys: Iterable[str], slug: str) -> list[str]:
        """Articles whose byline names one of these folded names, or this author."""
        keys = sorted(keys)
        marks = ",".join("?" for _ in keys) or "NULL"
        async with self.conn.execute(
            f"SELECT DISTINCT uri FROM article_names WHERE key IN ({marks}) OR slug = ?"
            " ORDER BY uri", (*keys, slug)) as c:
            return [r[0] for r in await c.fetchall()]
