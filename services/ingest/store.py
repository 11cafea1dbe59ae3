"""Ingest's SQLite state: current article per uri, every accepted version, stale
versions, author profiles, pushed media files, and the outbox of events to relay."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from services.ingest.domain import Current, slug_candidates
from shared.infra.db import Database, Migration, ensure_columns, run_script
from shared.infra.outbox import OUTBOX_SCHEMA
from shared.models import Article, Asset, AuthorProfile

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    uri TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,   -- galley's ordinal
    content_hash TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    source TEXT NOT NULL,
    article TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    source_version TEXT,        -- the newsroom's version string
    versioncreated TEXT         -- ISO 8601, as the newsroom dated the version
);
CREATE TABLE IF NOT EXISTS article_versions (
    uri TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source_version TEXT,
    PRIMARY KEY (uri, version)
);
CREATE TABLE IF NOT EXISTS stale_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL,
    version INTEGER NOT NULL,   -- (before source versions were kept as text)
    current_version INTEGER NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    sent_version TEXT           -- the newsroom's version string as sent ("" for none)
);
CREATE INDEX IF NOT EXISTS stale_by_uri ON stale_versions(uri);
CREATE TABLE IF NOT EXISTS assets (
    media_id TEXT PRIMARY KEY,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    source TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS authors (
    slug TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    profile TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


def _v1(conn: sqlite3.Connection) -> None:
    """The schema of the first versioned release; a database made before it gets the
    columns it lacks (its versions were whole numbers, which galley's ordinal held)."""
    run_script(conn, SCHEMA)
    run_script(conn, OUTBOX_SCHEMA)
    ensure_columns(
        conn,
        "articles",
        {"source_version": "TEXT", "versioncreated": "TEXT"},
        ["UPDATE articles SET source_version = CAST(version AS TEXT)"],
    )
    ensure_columns(conn, "stale_versions", {"sent_version": "TEXT"})
    ensure_columns(
        conn,
        "article_versions",
        {"source_version": "TEXT"},
        ["UPDATE article_versions SET source_version = CAST(version AS TEXT)"],
    )


# schema versions of ingest.db, in order (PRAGMA user_version: how many are applied);
# append a step for every change, never edit one that has shipped
MIGRATIONS: tuple[Migration, ...] = (_v1,)


class IngestStore:
    """The adapter: small queries that run inside the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.on_enqueued: Callable[[], None] = lambda: None  # wakes the outbox relay

    @classmethod
    async def open(cls, path: str | Path) -> IngestStore:
        return cls(await Database.open(path, migrations=MIGRATIONS))

    async def close(self) -> None:
        await self.db.close()

    # --- articles -----------------------------------------------------------------

    # The write-path statements take a plain sqlite3 connection: intake runs them as one
    # `run_sync` unit of work per submission.

    @staticmethod
    def current(conn: sqlite3.Connection, uri: str) -> Current | None:
        row = conn.execute(
            "SELECT version, content_hash, slug, source_version, versioncreated FROM articles"
            " WHERE uri = ?",
            (uri,),
        ).fetchone()
        if row is None:
            return None
        created = datetime.fromisoformat(row[4]) if row[4] else None
        return Current(row[0], row[1], row[2], row[3], created)

    @staticmethod
    def free_slug(conn: sqlite3.Connection, base: str, uri: str) -> str:
        """The first of base, base-2, ... that no other uri holds."""
        for candidate in slug_candidates(base):
            row = conn.execute("SELECT uri FROM articles WHERE slug = ?", (candidate,)).fetchone()
            if row is None or row[0] == uri:
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def save_version(
        conn: sqlite3.Connection, article: Article, digest: str, now: datetime
    ) -> None:
        at = now.isoformat()
        created = article.versioncreated.isoformat() if article.versioncreated else None
        conn.execute(
            "INSERT INTO articles(uri, slug, version, content_hash, lifecycle, source, article,"
            " updated_at, source_version, versioncreated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(uri) DO UPDATE SET version = excluded.version,"
            " content_hash = excluded.content_hash, lifecycle = excluded.lifecycle,"
            " source = excluded.source, article = excluded.article,"
            " updated_at = excluded.updated_at, source_version = excluded.source_version,"
            " versioncreated = excluded.versioncreated",
            (
                article.uri,
                article.slug,
                article.version,
                digest,
                article.lifecycle,
                article.source,
                article.model_dump_json(),
                at,
                article.source_version,
                created,
            ),
        )
        conn.execute(
            "INSERT INTO article_versions(uri, version, content_hash, lifecycle, source,"
            " received_at, source_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                article.uri,
                article.version,
                digest,
                article.lifecycle,
                article.source,
                at,
                article.source_version,
            ),
        )

    @staticmethod
    def record_stale(
        conn: sqlite3.Connection,
        uri: str,
        version: str | None,
        current_version: int,
        source: str,
        now: datetime,
    ) -> None:
        """`version` is the newsroom's version string ("" when it sent none)."""
        conn.execute(
            "INSERT INTO stale_versions(uri, version, current_version, source, received_at,"
            " sent_version) VALUES (?, 0, ?, ?, ?, ?)",
            (uri, current_version, source, now.isoformat(), version if version is not None else ""),
        )

    async def article(self, key: str) -> Article | None:
        """The stored current version, by uri or slug."""
        row = await self.db.fetchone(
            "SELECT article FROM articles WHERE uri = ? OR slug = ? LIMIT 1", (key, key)
        )
        return Article.model_validate_json(row[0]) if row else None

    async def history(self, uri: str) -> dict[str, list[dict[str, Any]]]:
        versions = await self.db.fetchall(
            "SELECT version, source_version, lifecycle, source, received_at FROM article_versions"
            " WHERE uri = ? ORDER BY version",
            (uri,),
        )
        stale = await self.db.fetchall(
            "SELECT COALESCE(sent_version, CAST(version AS TEXT)) AS version, current_version,"
            " source, received_at FROM stale_versions"
            " WHERE uri = ? ORDER BY id",
            (uri,),
        )
        return {"versions": [dict(r) for r in versions], "stale": [dict(r) for r in stale]}

    # --- media files ---------------------------------------------------------------

    async def held_assets(self, media_ids: Iterable[str]) -> set[str]:
        """Which of these media ids galley holds a file for."""
        wanted = sorted(set(media_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = await self.db.fetchall(
                f"SELECT media_id FROM assets WHERE media_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update(row[0] for row in rows)
        return found

    async def asset_info(self, media_id: str) -> dict[str, Any] | None:
        row = await self.db.fetchone(
            "SELECT media_id, mime_type, size, sha256, stored_at FROM assets WHERE media_id = ?",
            (media_id,),
        )
        return dict(row) if row else None

    @staticmethod
    def asset_sha256(conn: sqlite3.Connection, media_id: str) -> str | None:
        row = conn.execute("SELECT sha256 FROM assets WHERE media_id = ?", (media_id,)).fetchone()
        return str(row[0]) if row else None

    @staticmethod
    def save_asset(conn: sqlite3.Connection, asset: Asset, content: bytes, now: datetime) -> None:
        conn.execute(
            "INSERT INTO assets(media_id, mime_type, size, sha256, content, source, stored_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(media_id) DO UPDATE SET"
            " mime_type = excluded.mime_type, size = excluded.size, sha256 = excluded.sha256,"
            " content = excluded.content, source = excluded.source,"
            " stored_at = excluded.stored_at",
            (
                asset.media_id,
                asset.mime_type,
                asset.size,
                asset.sha256,
                content,
                asset.source or "",
                now.isoformat(),
            ),
        )

    # --- authors --------------------------------------------------------------------

    @staticmethod
    async def author_hash(conn: aiosqlite.Connection, slug: str) -> str | None:
        async with conn.execute("SELECT content_hash FROM authors WHERE slug = ?", (slug,)) as c:
            row = await c.fetchone()
        return str(row[0]) if row else None

    @staticmethod
    async def save_author(
        conn: aiosqlite.Connection, profile: AuthorProfile, digest: str, source: str, now: datetime
    ) -> None:
        await conn.execute(
            "INSERT INTO authors(slug, content_hash, profile, source, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(slug) DO UPDATE SET"
            " content_hash = excluded.content_hash, profile = excluded.profile,"
            " source = excluded.source, updated_at = excluded.updated_at",
            (profile.slug, digest, profile.model_dump_json(), source, now.isoformat()),
        )

    async def author(self, slug: str) -> AuthorProfile | None:
        row = await self.db.fetchone("SELECT profile FROM authors WHERE slug = ?", (slug,))
        return AuthorProfile.model_validate(json.loads(row[0])) if row else None
