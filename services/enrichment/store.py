"""SQLite state of enrichment: author directory, article archive, who links to whom."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from shared.envelope import Envelope
from shared.infra.consumer import PROCESSED_SCHEMA, first_time_sync
from shared.infra.db import Database, Migration, fetchall, fetchone, run_sync
from shared.infra.outbox import OUTBOX_SCHEMA, enqueue_sync
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

# schema versions of enrichment.db, in order (PRAGMA user_version: how many are applied);
# append a step for every change, never edit one that has shipped
MIGRATIONS: tuple[Migration, ...] = (OUTBOX_SCHEMA + PROCESSED_SCHEMA + SCHEMA,)


class Store:
    """Reads anywhere; writes only inside `transaction()` (one serialized writer)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Runs first in every write transaction (other replicas are locked out meanwhile).
        self.on_begin: Callable[[Tx], Awaitable[None]] | None = None
        self.own_changes: set[int] = set()  # committed by this process: nothing to catch up
        self._caught_up_in = -1  # the batch (Database.batches) already caught up

    @classmethod
    async def open(cls, path: str) -> Store:
        return cls(await Database.open(path, migrations=MIGRATIONS))

    async def close(self) -> None:
        await self.db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.db.transaction() as conn:
            tx = Tx(conn)
            if self.on_begin is not None and self._needs_catch_up():
                await self.on_begin(tx)
            yield tx
        self.own_changes.update(tx.seqs)

    def _needs_catch_up(self) -> bool:
        """Once per write transaction; inside a batch, once per batch: the batch holds
        SQLite's write lock from its first entry to its commit, so no other replica can
        write between two of its entries."""
        if not self.db.in_batch():
            return True
        if self._caught_up_in == self.db.batches:
            return False
        self._caught_up_in = self.db.batches
        return True

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
            "SELECT enriched FROM articles WHERE killed = 0 ORDER BY rowid"
        )
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
            " GROUP BY n.key ORDER BY count DESC, n.key"
        )
        return [{"name": r["name"], "count": r["count"]} for r in rows]


class Tx:
    """The statements of one write transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.seqs: list[int] = []  # the changes this transaction recorded

    async def first_time(self, event_id: str) -> bool:
        return await run_sync(self.conn, first_time_sync, event_id)

    async def claim(self, event_id: str, uri: str) -> tuple[bool, int | None]:
        """Record the event id and read the stored version of `uri`, as one `run_sync` unit:
        (False, None) when the event was handled before."""
        return await run_sync(self.conn, _claim, event_id, uri)

    async def enriched(self, uri: str) -> EnrichedArticle | None:
        row = await run_sync(
            self.conn, fetchone, "SELECT enriched FROM articles WHERE uri = ?", (uri,)
        )
        return EnrichedArticle.model_validate_json(row[0]) if row else None

    async def profile(self, slug: str) -> AuthorProfile | None:
        row = await run_sync(
            self.conn, fetchone, "SELECT profile FROM authors WHERE slug = ?", (slug,)
        )
        return AuthorProfile.model_validate_json(row[0]) if row else None

    async def save_profile(self, profile: AuthorProfile) -> None:
        await run_sync(self.conn, self._save_profile, profile)

    def _save_profile(self, conn: sqlite3.Connection, profile: AuthorProfile) -> None:
        conn.execute(
            "INSERT INTO authors(slug, profile) VALUES (?, ?)"
            " ON CONFLICT(slug) DO UPDATE SET profile = excluded.profile",
            (profile.slug, profile.model_dump_json()),
        )
        self._changed(conn, "author", profile.slug)

    def _changed(self, conn: sqlite3.Connection, kind: str, key: str) -> None:
        cur = conn.execute("INSERT INTO changes(kind, key) VALUES (?, ?)", (kind, key))
        if cur.lastrowid:
            self.seqs.append(cur.lastrowid)
        if cur.lastrowid and cur.lastrowid % 1000 == 0:
            conn.execute("DELETE FROM changes WHERE seq <= ?", (cur.lastrowid - KEEP_CHANGES,))

    async def changes_since(self, seq: int) -> tuple[list[tuple[int, str, str]], bool]:
        """Changes after `seq`, and whether some were already trimmed (reload everything)."""
        return await run_sync(self.conn, _changes_since, seq)

    async def save(
        self,
        enriched: EnrichedArticle,
        *,
        killed: bool,
        names_rows: Iterable[tuple[str, str, str | None]],
        event: Envelope[EnrichedArticle],
    ) -> None:
        """Store an enriched version with its byline names and outgoing links, and queue
        its event: one `run_sync` unit."""
        await run_sync(self.conn, self._save, enriched, killed, list(names_rows), event)

    def _save(
        self,
        conn: sqlite3.Connection,
        enriched: EnrichedArticle,
        killed: bool,
        names_rows: list[tuple[str, str, str | None]],
        event: Envelope[EnrichedArticle],
    ) -> None:
        uri = enriched.uri
        conn.execute(
            "INSERT INTO articles(uri, version, revision, killed, enriched) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(uri) DO UPDATE SET version = excluded.version,"
            " revision = excluded.revision, killed = excluded.killed,"
            " enriched = excluded.enriched",
            (
                uri,
                enriched.version,
                enriched.enrichment_revision,
                int(killed),
                enriched.model_dump_json(),
            ),
        )
        self._changed(conn, "article", uri)
        conn.execute("DELETE FROM article_names WHERE uri = ?", (uri,))
        conn.executemany(
            "INSERT OR IGNORE INTO article_names(uri, key, name, slug) VALUES (?, ?, ?, ?)",
            [(uri, key, name, slug) for key, name, slug in names_rows],
        )
        conn.execute("DELETE FROM links WHERE uri = ?", (uri,))
        conn.executemany(
            "INSERT OR IGNORE INTO links(uri, target) VALUES (?, ?)",
            [(uri, link.uri) for link in enriched.related],
        )
        enqueue_sync(conn, event)

    async def linking_to(self, target: str) -> list[str]:
        rows = await run_sync(
            self.conn, fetchall, "SELECT uri FROM links WHERE target = ? ORDER BY uri", (target,)
        )
        return [r[0] for r in rows]

    async def naming(self, keys: Iterable[str], slug: str) -> list[str]:
        """Articles whose byline names one of these folded names, or this author."""
        keys = sorted(keys)
        marks = ",".join("?" for _ in keys) or "NULL"
        rows = await run_sync(
            self.conn,
            fetchall,
            f"SELECT DISTINCT uri FROM article_names WHERE key IN ({marks}) OR slug = ?"
            " ORDER BY uri",
            (*keys, slug),
        )
        return [r[0] for r in rows]


def _claim(conn: sqlite3.Connection, event_id: str, uri: str) -> tuple[bool, int | None]:
    if not first_time_sync(conn, event_id):
        return False, None
    row = conn.execute("SELECT version FROM articles WHERE uri = ?", (uri,)).fetchone()
    return True, (int(row[0]) if row else None)


def _changes_since(conn: sqlite3.Connection, seq: int) -> tuple[list[tuple[int, str, str]], bool]:
    rows = [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in conn.execute(
            "SELECT seq, kind, key FROM changes WHERE seq > ? ORDER BY seq", (seq,)
        )
    ]
    first = conn.execute("SELECT MIN(seq) FROM changes").fetchone()[0]
    return rows, first is not None and int(first) > seq + 1
