"""SQLite state of enrichment: author directory, article archive, who links to whom."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
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
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL
);
"""
# Replicas share the SQLite file; each keeps its directory and index in memory and
# catches up on what the others wrote from `changes` (see Store.on_begin).
KEEP_CHANGES = 50_000

ALL_SCHEMA = (OUTBOX_SCHEMA, PROCESSED_SCHEMA, SCHEMA)


class Store:
    """Reads anywhere; writes only inside `transaction()` (one serialized writer)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Runs first in every write transaction (other replicas are locked out meanwhile).
        self.on_begin: Callable[[Tx], Awaitable[None]] | None = None
        self.own_changes: set[int] = set()  # committed by this process: nothing to catch up

    @classmethod
    async def open(cls, path: str) -> Store:
        return cls(await Database.open(path, schema=ALL_SCHEMA))

    async def close(self) -> None:
        await self.db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.db.transaction() as conn:
            tx = Tx(conn)
            if self.on_begin is not None:
                await self.on_begin(tx)
            yield tx
        self.own_changes.update(tx.seqs)

    async def last_change(self) -> int:
        row = await self.db.fetchone("SELECT COALESCE(MAX(seq), 0) FROM changes")
        return int(row[0]) if row else 0

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
        self.seqs: list[int] = []  # the changes this transaction recorded

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
        await self._changed("author", profile.slug)

    async def _changed(self, kind: str, key: str) -> None:
        cur = await self.conn.execute("INSERT INTO changes(kind, key) VALUES (?, ?)", (kind, key))
        if cur.lastrowid:
            self.seqs.append(cur.lastrowid)
        if cur.lastrowid and cur.lastrowid % 1000 == 0:
            await self.conn.execute("DELETE FROM changes WHERE seq <= ?",
                                    (cur.lastrowid - KEEP_CHANGES,))

    async def changes_since(self, seq: int) -> tuple[list[tuple[int, str, str]], bool]:
        """Changes after `seq`, and whether some were already trimmed (reload everything)."""
        async with self.conn.execute(
                "SELECT seq, kind, key FROM changes WHERE seq > ? ORDER BY seq", (seq,)) as c:
            rows = [(int(r[0]), str(r[1]), str(r[2])) for r in await c.fetchall()]
        async with self.conn.execute("SELECT MIN(seq) FROM changes") as c:
            first = (await c.fetchone() or (None,))[0]
        return rows, first is not None and int(first) > seq + 1

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
        await self._changed("article", uri)
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
