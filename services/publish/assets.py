"""Media files the newsroom pushed, served by the site itself at /media/<media id>.

Ingest keeps each pushed file and sends it on `assets.stored`; publish stores
it in its own database and serves it, so a reader's browser never fetches from
the newsroom's CMS. A file is served with the type its bytes were checked to be,
an ETag (its SHA-256) and a day's cache lifetime; a newsroom may replace a file
under the same media id, and the ETag then changes.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from faststream.redis import RedisBroker

from shared import names
from shared.envelope import Envelope
from shared.infra.consumer import DeadLetters, Route, StreamConsumer
from shared.infra.db import Database, run_sync
from shared.models import Asset

SCHEMA = """
CREATE TABLE IF NOT EXISTS assets (
    media_id TEXT PRIMARY KEY,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL
);
"""
CACHE = "public, max-age=86400"
# entries read at once: each may carry a file of many megabytes
MAX_RECORDS = 4


@dataclass(frozen=True)
class Stored:
    mime_type: str
    sha256: str
    content: bytes


class AssetStore:
    """The `assets` table of publish's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, db: Database) -> AssetStore:
        async with db.transaction() as conn:  # one statement: executescript would COMMIT
            await run_sync(conn, lambda c: c.execute(SCHEMA))
        return cls(db)

    async def keep(self, asset: Asset) -> None:
        """Store the file (idempotent: the same event twice stores the same row)."""
        content = base64.b64decode(asset.content)
        async with self.db.transaction() as conn:
            await run_sync(conn, _keep, asset, content)

    async def get(self, media_id: str) -> Stored | None:
        row = await self.db.fetchone(
            "SELECT mime_type, sha256, content FROM assets WHERE media_id = ?", (media_id,)
        )
        return Stored(row[0], row[1], bytes(row[2])) if row else None


def _keep(conn: sqlite3.Connection, asset: Asset, content: bytes) -> None:
    conn.execute(
        "INSERT INTO assets(media_id, mime_type, size, sha256, content) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(media_id) DO UPDATE SET mime_type = excluded.mime_type,"
        " size = excluded.size, sha256 = excluded.sha256, content = excluded.content"
        " WHERE sha256 != excluded.sha256",
        (asset.media_id, asset.mime_type, asset.size, asset.sha256, content),
    )


def asset_handler(store: Callable[[], AssetStore]) -> Callable[[Envelope[Any]], Any]:
    async def handle(event: Envelope[Asset]) -> None:
        await store().keep(event.data)

    return handle


def register_asset_consumer(
    broker: RedisBroker,
    consumer: str,
    handle: Callable[[Envelope[Any]], Any],
    dead_letters: Callable[[], DeadLetters],
    *,
    db: Callable[[], Database],
) -> StreamConsumer:
    """The reader and claimer of `assets.stored`, a few entries per read."""
    stream_consumer = StreamConsumer(
        broker=broker,
        stream=names.ASSETS_STORED,
        group=names.PUBLISH_GROUP,
        consumer=consumer,
        routes={names.ASSET_STORED: Route(Asset, handle)},
        dead_letters=dead_letters,
        db=db,
        max_records=MAX_RECORDS,
    )
    stream_consumer.register()
    return stream_consumer


def media_router(store: Callable[[], AssetStore]) -> APIRouter:
    router = APIRouter()

    @router.api_route(names.media_path("{media_id:path}"), methods=["GET", "HEAD"])
    async def media(request: Request, media_id: str) -> Response:
        found = await store().get(media_id)
        if found is None:
            return Response("no such file\n", status_code=404, media_type="text/plain")
        etag = f'"{found.sha256}"'
        headers = {"ETag": etag, "Cache-Control": CACHE}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = b"" if request.method == "HEAD" else found.content
        headers["Content-Length"] = str(len(found.content))
        return Response(body, media_type=found.mime_type, headers=headers)

    return router
