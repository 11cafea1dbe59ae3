"""What the site does for every response, whatever route made it.

- `StaticBundle`: the files of `static/`, read once at startup and served under
  fingerprinted names (`/static/site.<hash>.css`, the hash of the file's bytes) with a
  year's immutable cache lifetime; templates name them through `url()`, so a changed
  file is a new URL. The plain name (`/static/site.css`) still answers, revalidated
  each time. `/favicon.ico` answers with the icon, cached for a day.
- `Validators`: pages, feeds, sitemaps and the API get a weak `ETag` (a hash of the
  body, which holds nothing that changes per request) and a `Last-Modified` (the newest
  change in the store, never before the service started), and answer `304` to a matching
  `If-None-Match` or, without one, to an `If-Modified-Since` not before it.
- `Compression`: gzip for every compressible answer of 500 bytes or more but the media
  files (which are sent in byte ranges, and are mostly compressed already).
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from fastapi import APIRouter, Request, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import names

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # stored, but asked again (a 304 when nothing changed)
ICON_CACHE = "public, max-age=86400"
FAVICON = "favicon.ico"
HASH_LENGTH = 12
COMPRESS_AT = 500  # bytes: smaller answers are sent as they are
MEDIA_PREFIX = names.media_path("")


@dataclass(frozen=True)
class StaticFile:
    name: str  # as in static/: "site.css"
    fingerprinted: str  # "site.3f9a0c1b2d4e.css"
    content: bytes
    media_type: str
    etag: str


def _fingerprinted(name: str, digest: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"


def _media_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if name.endswith(".ico"):
        guessed = "image/x-icon"
    if guessed.startswith("text/") or guessed in ("application/javascript", "image/svg+xml"):
        guessed += "; charset=utf-8"
    return guessed


class StaticBundle:
    """The files of a folder, fingerprinted by content at startup."""

    def __init__(self, directory: Path) -> None:
        self.files: dict[str, StaticFile] = {}
        self._by_path: dict[str, tuple[StaticFile, str]] = {}
        for path in sorted(p for p in directory.iterdir() if p.is_file()):
            content = path.read_bytes()
            digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
            found = StaticFile(
                path.name,
                _fingerprinted(path.name, digest),
                content,
                _media_type(path.name),
                f'"{digest}"',
            )
            self.files[path.name] = found
            self._by_path[found.fingerprinted] = (found, IMMUTABLE)
            self._by_path[found.name] = (found, REVALIDATE)

    def url(self, name: str) -> str:
        """The fingerprinted path of a file of the bundle: `/static/site.<hash>.css`."""
        return f"/static/{self.files[name].fingerprinted}"

    def answer(self, request: Request, found: StaticFile, cache: str) -> Response:
        headers = {"ETag": found.etag, "Cache-Control": cache}
        if found.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return Response(found.content, media_type=found.media_type, headers=headers)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.api_route("/static/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
        async def static(request: Request, path: str) -> Response:
            entry = self._by_path.get(path)
            if entry is None:
                return Response("no such file\n", status_code=404, media_type="text/plain")
            return self.answer(request, *entry)

        if FAVICON in self.files:

            @router.api_route(f"/{FAVICON}", methods=["GET", "HEAD"], include_in_schema=False)
            async def favicon(request: Request) -> Response:
                return self.answer(request, self.files[FAVICON], ICON_CACHE)

        return router


# --- validators -----------------------------------------------------------------------


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match, compared weakly (W/ dropped)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _parse_http_date(text: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def not_modified(request_headers: Headers, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match first; If-Modified-Since only without it."""
    none_match = request_headers.get("if-none-match")
    if none_match is not None:
        tags = _etags(none_match)
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request_headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    moment = _parse_http_date(since)
    return moment is not None and last_modified.replace(microsecond=0) <= moment


LastChange = Callable[[], Awaitable[datetime | None]]


class Validators:
    """ETag, Last-Modified and 304s for the generated answers (see the module's doc)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        last_change: LastChange,
        started: datetime,
        skip: tuple[str, ...] = ("/static/", MEDIA_PREFIX, "/health/", "/metrics", "/favicon"),
        undated: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.last_change = last_change
        self.started = started.replace(microsecond=0)
        self.skip = skip
        self.undated = undated  # answers that change with the time of day: ETag only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or path.startswith(self.skip)
        ):
            await self.app(scope, receive, send)
            return
        last_modified: datetime | None = None
        if path not in self.undated:
            changed = await self.last_change()
            last_modified = max(changed, self.started) if changed else self.started
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False

        async def capture(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                if message["status"] != 200 or "etag" in headers:
                    passing = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._answer(scope, start, b"".join(chunks), last_modified, send)

        await self.app(scope, receive, capture)

    async def _answer(
        self,
        scope: Scope,
        start: Message,
        body: bytes,
        last_modified: datetime | None,
        send: Send,
    ) -> None:
        etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = MutableHeaders(raw=list(start.get("headers", [])))
        headers["ETag"] = etag
        if last_modified is not None:
            headers["Last-Modified"] = _http_date(last_modified)
        headers.setdefault("Cache-Control", REVALIDATE)
        headers.add_vary_header("Accept-Encoding")
        if not_modified(Headers(scope=scope), etag, last_modified):
            kept = {
                k: headers[k]
                for k in ("etag", "last-modified", "cache-control", "vary")
                if k in headers
            }
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(k.encode(), v.encode()) for k, v in kept.items()],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})


# --- compression ------------------------------------------------------------------------


class Compression(GZipMiddleware):
    """gzip for text, feeds, JSON, CSS, JS and SVG; never for /media/ (byte ranges)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, minimum_size=COMPRESS_AT, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(MEDIA_PREFIX):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
