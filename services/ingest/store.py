"""Ingest's SQLite state: current article per uri, every accepted version, stale
versions, author profiles, and the outbox of events to relay."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from services.ingest.domain import Current, slug_candidates
from shared.infra.db import Database
from shared.infra.outbox import OUTBOX_SCHEMA
from shared.models import Article, AuthorProfile

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    uri TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    source TEXT NOT NULL,
    article TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS article_versions (
    uri TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (uri, version)
);
CREATE TABLE IF NOT EXISTS stale_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL,
    version INTEGER NOT NULL,
    current_version INTEGER NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stale_by_uri ON stale_versions(uri);
CREATE TABLE IF NOT EXISTS authors (
    slug TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    profile TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


class IngestStore:
    """The adapter: small queries that run inside the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.on_enqueued: Callable[[], None] = lambda: None  # wakes the outbox relay

    @classmethod
    async def open(cls, path: str | Path) -> IngestStore:
        return cls(await Database.open(path, schema=[SCHEMA, OUTBOX_SCHEMA]))

    async def close(self) -> None:
        await self.db.close()

    # --- articles -----------------------------------------------------------------

    # The write-path statements take a plain sqlite3 connection: intake runs them as one
    # `run_sync` unit of work per submission.

    @staticmethod
    def current(conn: sqlite3.Connection, uri: str) -> Current | None:
        row = conn.execute(
            "SELECT version, content_hash, slug FROM articles WHERE uri = ?", (uri,)).fetchone()
        return Current(row[0], row[1], row[2]) if row else None

    @staticmethod
    def free_slug(conn: sqlite3.Connection, base: str, uri: str) -> str:
        """The first of base, base-2, ... that no other uri holds."""
        for candidate in slug_candidates(base):
            row = conn.execute("SELECT uri FROM articles WHERE slug = ?", (candidate,)).fetchone()
            if row is None or row[0] == uri:
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def save_version(conn: sqlite3.Connection, article: Article, digest: str,
                     now: datetime) -> None:
        at = now.isoformat()
        conn.execute(
            "INSERT INTO articles(uri, slug, version, content_hash, lifecycle, source, article,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(uri) DO UPDATE SET version = excluded.version,"
            " content_hash = excluded.content_hash, lifecycle = excluded.lifecycle,"
            " source = excluded.source, article = excluded.article,"
            " updated_at = excluded.updated_at",
            (article.uri, article.slug, article.version, digest, article.lifecycle,
             article.source, article.model_dump_json(), at),
        )
        conn.execute(
            "INSERT INTO article_versions(uri, version, content_hash, lifecycle, source,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?)",
            (article.uri, article.version, digest, article.lifecycle, article.source, at),
        )

    @staticmethod
    def record_stale(conn: sqlite3.Connection, uri: str, version: int,
                     current_version: int, source: str, now: datetime) -> None:
        conn.execute(
            "INSERT INTO stale_versions(uri, version, current_version, source, received_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (uri, version, current_version, source, now.isoformat()),
        )

    async def article(self, key: str) -> Article | None:
        """The stored current version, by uri or slug."""
        row = await self.db.fetchone(
            "SELECT article FROM articles WHERE uri = ? OR slug = ? LIMIT 1", (key, key)
        )
        return Article.model_validate_json(row[0]) if row else None

    async def history(self, uri: str) -> dict[str, list[dict[str, Any]]]:
        versions = await self.db.fetchall(
            "SELECT version, lifecycle, source, received_at FROM article_versions"
            " WHERE uri = ? ORDER BY version", (uri,)
        )
        stale = await self.db.fetchall(
            "SELECT version, current_version, source, received_at FROM stale_versions"
            " WHERE uri = ? ORDER BY id", (uri,)
        )
        return {"versions": [dict(r) for r in versions], "stale": [dict(r) for r in stale]}

    # --- authors --------------------------------------------------------------------

    @staticmethod
    async def author_hash(conn: aiosqlite.Connection, slug: str) -> str | None:
        async with conn.execute("SELECT content_hash FROM authors WHERE slug = ?", (slug,)) as c:
            row = await c.fetchone()
        return str(row[0]) if row else None

    @staticmethod
    async def save_author(conn: aiosqlite.Connection, profile: AuthorProfile, digest: str,
                          source: str, now: datetime) -> None:
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
