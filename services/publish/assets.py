"""Media files the newsroom pushed, served by the site itself at /media/<media id>.

Ingest keeps each pushed file and sends it on `assets.stored`; publish stores
it in its own database and serves it, so a reader's browser never fetches from
the newsroom's CMS.

A file is served only while a live article shows it (the `article_media` table the
article store keeps with each article's state): the pictures of an embargoed or
scheduled story are not public before it is, and those of a killed story go with it.
It is served with the type its bytes were checked to be, an ETag (its SHA-256) and an
hour's cache lifetime (a takedown reaches readers within the hour), in byte ranges when
asked (Safari plays video only so), and read in chunks off the event loop, never whole.

A newsroom may replace a file under the same media id: a later `stored_at` replaces
it, an earlier one (a redelivered old event) or none never does; the ETag then changes.
"""

from __future__ import annotations

import base64
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from services.publish.domain import sort_key
from shared import names
from shared.envelope import Envelope
from shared.infra.db import Database, run_sync
from shared.models import Asset

SCHEMA = """
CREATE TABLE IF NOT EXISTS assets (
    media_id TEXT PRIMARY KEY,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    stored_at TEXT          -- when ingest kept it (sort_key); NULL: sent before it said
);
"""
COLUMNS = {"stored_at": "TEXT"}  # added to a table made by an older release
CACHE = "public, max-age=3600"
CHUNK = 256 * 1024  # bytes read (and sent) at once
# entries read at once: each may carry a file of many megabytes
MAX_RECORDS = 4


@dataclass(frozen=True)
class Stored:
    """A served file's row, without its bytes (`AssetStore.read` streams those)."""

    rowid: int
    mime_type: str
    size: int
    sha256: str


class FileChanged(RuntimeError):
    """The file was replaced or removed while it was being sent."""


class AssetStore:
    """The `assets` table of publish's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, db: Database) -> AssetStore:
        """The table in publish's database (its schema comes with publish's migrations)."""
        return cls(db)

    async def keep(self, asset: Asset) -> None:
        """Store the file, or replace it when this one is later (the same event twice,
        or an old one again, changes nothing)."""
        content = base64.b64decode(asset.content)
        async with self.db.transaction() as conn:
            await run_sync(conn, _keep, asset, content)

    async def served(self, media_id: str) -> Stored | None:
        """The file, if it is stored and a live article shows it."""
        row = await self.db.fetchone(
            "SELECT rowid, mime_type, length(content), sha256 FROM assets"
            " WHERE media_id = ? AND EXISTS"
            " (SELECT 1 FROM article_media r WHERE r.media_id = assets.media_id)",
            (media_id,),
        )
        return Stored(row[0], row[1], row[2], row[3]) if row else None

    async def read(self, found: Stored, start: int, length: int) -> AsyncIterator[bytes]:
        """`length` bytes of the file from `start`, a chunk per read on the database's
        reader thread; raises `FileChanged` if the file is replaced meanwhile."""
        offset, end = start, start + length
        while offset < end:
            size = min(CHUNK, end - offset)
            chunk = await self.db.read(_chunk, found.rowid, found.sha256, offset, size)
            if not chunk:
                raise FileChanged(f"file {found.rowid} changed while it was sent")
            yield chunk
            offset += len(chunk)


def _keep(conn: sqlite3.Connection, asset: Asset, content: bytes) -> None:
    stored_at = sort_key(asset.stored_at) if asset.stored_at is not None else None
    conn.execute(
        "INSERT INTO assets(media_id, mime_type, size, sha256, content, stored_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(media_id) DO UPDATE SET mime_type = excluded.mime_type,"
        " size = excluded.size, sha256 = excluded.sha256, content = excluded.content,"
        " stored_at = excluded.stored_at"
        # NULL (an event without the time) is never later; a row without it is older
        " WHERE excluded.stored_at > COALESCE(assets.stored_at, '')",
        (asset.media_id, asset.mime_type, asset.size, asset.sha256, content, stored_at),
    )


def _chunk(conn: sqlite3.Connection, rowid: int, sha256: str, offset: int, size: int) -> bytes:
    """Bytes of the file's BLOB through an incremental blob handle (the row's other
    bytes are never loaded); b"" if the row is gone or holds another file now."""
    try:
        blob = conn.blobopen("assets", "content", rowid, readonly=True)
    except sqlite3.OperationalError:  # no such rowid
        return b""
    with blob:  # while it is open, the statement below reads the same snapshot
        row = conn.execute("SELECT sha256 FROM assets WHERE rowid = ?", (rowid,)).fetchone()
        if row is None or row[0] != sha256:
            return b""
        blob.seek(offset)
        return blob.read(size)


def asset_handler(store: Callable[[], AssetStore]) -> Callable[[Envelope[Any]], Any]:
    async def handle(event: Envelope[Asset]) -> None:
        await store().keep(event.data)

    return handle


# --- byte ranges (RFC 9110, section 14) --------------------------------------------------


class Unsatisfiable(ValueError):
    """A range that starts past the end of the file (answered 416)."""


_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE)


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive, of a single `Range: bytes=a-b`, `bytes=a-` or
    `bytes=-n` of a file of `size` bytes; None to send the whole file (no range, several
    ranges, another unit or a malformed one may be ignored); raises `Unsatisfiable`."""
    match = _RANGE.fullmatch(header)
    if match is None or not any(match.groups()):
        return None
    first, last = (int(g) if g else None for g in match.groups())
    if first is None:  # the last `last` bytes
        if last == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(0, size - (last or 0)), size - 1
    if last is not None and last < first:
        return None
    if first >= size:
        raise Unsatisfiable(header)
    return first, size - 1 if last is None else min(last, size - 1)


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match, compared weakly (W/ dropped)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def media_router() -> APIRouter:
    """/media/<id>: the files of app.state.assets (set when the service starts)."""
    router = APIRouter()

    @router.api_route(names.media_path("{media_id:path}"), methods=["GET", "HEAD"])
    async def media(request: Request, media_id: str) -> Response:
        assets: AssetStore = request.app.state.assets
        found = await assets.served(media_id)
        if found is None:
            return Response("no such file\n", status_code=404, media_type="text/plain")
        etag = f'"{found.sha256}"'
        headers = {"ETag": etag, "Cache-Control": CACHE, "Accept-Ranges": "bytes"}
        none_match = request.headers.get("if-none-match")
        if none_match is not None and _etags(none_match) & {etag, "*"}:
            return Response(status_code=304, headers=headers)
        span = None
        asked = request.headers.get("range")
        if_range = request.headers.get("if-range")
        if asked is not None and (if_range is None or if_range.strip() == etag):
            try:
                span = byte_range(asked, found.size)
            except Unsatisfiable:
                headers["Content-Range"] = f"bytes */{found.size}"
                return Response(status_code=416, headers=headers)
        first, last = span if span is not None else (0, found.size - 1)
        if span is not None:
            headers["Content-Range"] = f"bytes {first}-{last}/{found.size}"
        headers["Content-Length"] = str(last - first + 1)
        status = 206 if span is not None else 200
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=found.mime_type)
        return StreamingResponse(
            assets.read(found, first, last - first + 1),
            status_code=status,
            headers=headers,
            media_type=found.mime_type,
        )

    return router
