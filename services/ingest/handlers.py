"""The two front doors: HTTP routes and the `newsroom.submissions` stream handlers.

Both translate their input, call `intake`, and translate the outcome back.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from services.ingest import dialects, domain, intake
from services.ingest.assets import AssetRefused, Upload
from services.ingest.domain import Decision, Invalid
from services.ingest.guards import (
    Gatekeeper,
    RateLimiter,
    check_content_type,
    parse_json,
    read_limited,
)
from services.ingest.intake import Clock, Outcome
from services.ingest.problems import Problem, invalid_problem
from services.ingest.store import IngestStore
from shared import names
from shared.envelope import Envelope, JsonRefused, read_json
from shared.infra.consumer import (
    DeadLetters,
    current_entry_bytes,
    current_entry_id,
)
from shared.models import Rejection, Submission

log = logging.getLogger("galley.ingest")


# --- HTTP ------------------------------------------------------------------------------


REJECTED = Counter(
    "galley_ingest_rejected",
    "Submissions ingest refused, by problem type and door",
    ["reason", "door"],
)


@dataclass(frozen=True)
class HttpDoor:
    """Admission to the HTTP API: who is posting, and whether they may now.

    Each source has a bucket for its requests (`limiter`) and another for its refused
    requests (`refusals`): a request takes a token when it is admitted and gets it back
    if it is refused, so refusals do not use up the source's rate, and a source whose
    refusals run out of tokens is told to slow down before anything is read. Clients that
    fail to authenticate share a bucket per address (`auth_failures`); bodies signed
    Superdesk's way are read a few at a time (`signed_reads`) and large ones are checked
    off the event loop, since they must be read before anyone knows who sent them.
    """

    gate: Gatekeeper
    limiter: RateLimiter
    max_body_bytes: int
    now: Clock
    max_asset_bytes: int = 20 * 1024 * 1024
    site_url: str = ""
    refusals: RateLimiter | None = None
    auth_failures: RateLimiter = field(
        default_factory=lambda: RateLimiter(AUTH_FAILURES_PER_SECOND, AUTH_FAILURES_BURST)
    )
    signed_reads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(SIGNED_READS))

    async def admit(self, request: Request, *, json_body: bool = True) -> tuple[str, bytes]:
        """Auth (bearer key, or Superdesk's signature of the body), rate, content type,
        size: (source, body) or a Problem."""
        client = _client(request)
        self.auth_failures.take(client, what="failed authentications")  # refuses when over
        self.auth_failures.refund(client)
        signed = self.gate.signed(request)
        if not signed:
            self._admit(request, self.gate.source_for(request), status=429)
        if json_body:
            check_content_type(request)
        limit = self.max_body_bytes if json_body else self.max_asset_bytes + MULTIPART_SLACK
        if not signed:
            return request.state.source, await read_limited(request, limit)
        async with self.signed_reads:
            body = await read_limited(request, limit)
            if len(body) > LARGE_BODY:
                source = await asyncio.to_thread(self.gate.source_for, request, body)
            else:
                source = self.gate.source_for(request, body)
        self._admit(request, source, status=503)  # Superdesk retries a 5xx, never a 4xx
        return source, body

    def _admit(self, request: Request, source: str, *, status: int) -> None:
        request.state.source = source
        request.state.signed = status == 503
        if self.refusals is not None:
            self.refusals.take(source, status=status, what="refused submissions")
            self.refusals.refund(source)
        self.limiter.take(source, status=status)
        request.state.admitted = True

    def refused(self, request: Request, problem: Problem) -> None:
        """A refusal: an admitted request gives its token back and costs a refusal token;
        a failed authentication costs its client address one."""
        if problem.status in (401, 403):
            self.auth_failures.spend(_client(request))
        elif getattr(request.state, "admitted", False):
            self.limiter.refund(request.state.source)
            if self.refusals is not None:
                self.refusals.spend(request.state.source)

    def page_url(self, slug: str) -> str:
        return self.site_url.rstrip("/") + names.article_path(slug)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


AUTH_FAILURES_PER_SECOND = 1.0  # failed authentications a client address may make ...
AUTH_FAILURES_BURST = 20  # ... and at once
SIGNED_READS = 4  # signed bodies read at the same time
LARGE_BODY = 256 * 1024  # a signed body this large is checked on a worker thread
MULTIPART_SLACK = 64 * 1024  # room for a multipart body's own headers and fields


def _store(request: Request) -> IngestStore:
    store: IngestStore = request.app.state.store
    return store


def _article_answer(outcome: Outcome, door: HttpDoor) -> JSONResponse:
    body: dict[str, Any] = {
        "status": outcome.decision.value,
        "uri": outcome.uri,
        "version": outcome.version,
        "source_version": outcome.source_version,
        "dialect": outcome.dialect,
    }
    if outcome.decision is Decision.CONFLICT:
        raise Problem(
            409,
            "version-conflict",
            "Version conflict",
            f"version {outcome.source_version} of {outcome.uri} was already accepted"
            " with different content; send it as a new version",
            uri=outcome.uri,
            version=outcome.source_version,
        )
    if outcome.slug:
        body.update(
            slug=outcome.slug,
            url=door.page_url(outcome.slug),
            path=names.article_path(outcome.slug),
        )
    if outcome.article is None:
        return JSONResponse({**body, "current_version": outcome.current_version}, 200)
    article = outcome.article
    visible_from = article.visible_from.isoformat() if article.visible_from else None
    body.update(type=article.type, lifecycle=article.lifecycle, visible_from=visible_from)
    return JSONResponse(body, 202, headers={"Location": f"/v1/articles/{article.slug}"})


def _problem_of(exc: Exception) -> Problem:
    if isinstance(exc, Invalid):
        return invalid_problem(exc)
    if isinstance(exc, AssetRefused):
        return Problem(exc.status, exc.problem, "The file was not kept", exc.detail)
    assert isinstance(exc, Problem)
    return exc


async def _refusing(
    request: Request, door: HttpDoor, work: Callable[[], Awaitable[JSONResponse]]
) -> JSONResponse:
    """Run a submission; a refusal is logged with its reason and source, counted, sent on
    `articles.rejected` (not for failed authentication: anyone can cause those), and
    answered as problem+json."""
    try:
        return await work()
    except (Problem, Invalid, AssetRefused) as exc:
        problem = _problem_of(exc)
        door.refused(request, problem)
        await _record_refusal(request, problem, door.now)
        raise problem from None


async def _record_refusal(request: Request, problem: Problem, now: Clock) -> None:
    source = getattr(request.state, "source", None)
    uri = getattr(request.state, "uri", None)
    REJECTED.labels(problem.kind, "http").inc()
    client = request.client.host if request.client else "?"
    log.warning(
        "refused %s %s from %s: %s %s: %s",
        request.method,
        request.url.path,
        source or f"unauthenticated client {client}",
        problem.status,
        problem.kind,
        problem.detail,
        extra={"uri": uri} if uri else None,
    )
    if problem.status in (401, 403) or source is None or problem.kind == "rate-limited":
        return  # anyone can cause these, and a busy sender retries: logged and counted only
    try:
        await intake.reject(
            _store(request),
            Rejection(
                reason=f"{problem.status} {problem.kind}: {problem.detail}"[:2000],
                errors=list(problem.extra.get("errors", []))[:100],
                uri=uri,
                source=source,
                door="http",
                status=problem.status,
                problem=problem.kind,
                dialect=getattr(request.state, "dialect", None),
            ),
            now=now,
        )
    except Exception:  # the refusal still stands; only its announcement failed
        log.exception("could not queue article.rejected for a refused request")


def _uri_of(document: Any) -> str | None:
    if isinstance(document, dict):
        for key in ("uri", "guid"):
            if isinstance(document.get(key), str):
                return str(document[key])[:1000]
    return None


async def _multipart(request: Request, body: bytes, max_bytes: int) -> Upload:
    """The media_id, file and declared type of Superdesk's multipart asset upload."""

    async def chunks() -> AsyncGenerator[bytes, None]:
        yield body

    try:
        form = await MultiPartParser(
            request.headers,
            chunks(),
            max_files=2,
            max_fields=10,
            max_part_size=max_bytes * 4 // 3 + 1024,
        ).parse()
    except (MultiPartException, ValueError) as exc:
        raise Problem(400, "malformed-multipart", "Malformed multipart body", str(exc)) from None
    try:
        media_id = form.get("media_id")
        media = form.get("media")
        if not isinstance(media_id, str) or not media_id.strip():
            raise Problem(
                422,
                "invalid-asset",
                "The file was not kept",
                "the form needs a media_id field",
                errors=[{"pointer": "/media_id", "detail": "required"}],
            )
        request.state.uri = media_id
        if isinstance(media, UploadFile):
            content = await media.read()
            declared = form.get("mime_type") or media.content_type
        elif isinstance(media, str) and media:
            content = _base64(media)  # Eve's convention: the file as a base64 field
            declared = form.get("mime_type")
        else:
            raise Problem(
                422,
                "invalid-asset",
                "The file was not kept",
                "the form needs the file in a media field",
                errors=[{"pointer": "/media", "detail": "required"}],
            )
        return Upload(
            media_id=media_id.strip(),
            content=content,
            declared=declared if isinstance(declared, str) else None,
            source=request.state.source,
        )
    finally:
        await form.close()


def _base64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(
            422,
            "invalid-asset",
            "The file was not kept",
            "the media field is neither a file nor base64",
        ) from None


async def _parsed(body: bytes) -> Any:
    """The body's JSON (`parse_json`); a large body is read on a worker thread."""
    if len(body) > intake.LARGE_DOCUMENT:
        return await asyncio.to_thread(parse_json, body, domain.MAX_DEPTH)
    return parse_json(body, domain.MAX_DEPTH)


def api_router(door: HttpDoor) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["ingest"])

    @router.post("/articles", status_code=202)
    async def post_article(request: Request) -> JSONResponse:
        async def work() -> JSONResponse:
            source, body = await door.admit(request)
            document = await _parsed(body)
            request.state.uri = _uri_of(document)
            request.state.dialect = (
                dialects.detect(document) if isinstance(document, dict) else None
            )
            outcome = await intake.submit_article(
                _store(request), document, source=source, now=door.now, size=len(body)
            )
            return _article_answer(outcome, door)

        return await _refusing(request, door, work)

    @router.post("/authors", status_code=202)
    async def post_author(request: Request) -> JSONResponse:
        async def work() -> JSONResponse:
            source, body = await door.admit(request)
            document = await _parsed(body)
            profile, changed = await intake.submit_author(
                _store(request), document, source=source, now=door.now
            )
            return JSONResponse(
                {"status": "accepted" if changed else "unchanged", "slug": profile.slug},
                202 if changed else 200,
            )

        return await _refusing(request, door, work)

    @router.post("/assets", status_code=201)
    async def post_asset(request: Request) -> JSONResponse:
        """A media file, as Superdesk's HTTP Push uploads it (multipart: media_id, media,
        optionally mime_type and filemeta), kept and served by the site at /media/<id>.

        Superdesk never retries a 4xx and gives up the whole item when one of its files is
        refused; so to a signed sender a file galley will not serve (too large, not a
        picture, video or audio file) is answered 200 "not-kept": the item still arrives
        and that rendition is shown from its own address. The refusal is logged, counted
        and sent on articles.rejected all the same."""

        async def work() -> JSONResponse:
            _, body = await door.admit(request, json_body=False)
            upload = await _multipart(request, body, door.max_asset_bytes)
            asset, changed = await intake.submit_asset(
                _store(request), upload, max_bytes=door.max_asset_bytes, now=door.now
            )
            return JSONResponse(
                {
                    "status": "stored" if changed else "unchanged",
                    "media_id": asset.media_id,
                    "mime_type": asset.mime_type,
                    "size": asset.size,
                    "sha256": asset.sha256,
                    "href": names.media_path(asset.media_id),
                },
                201 if changed else 200,
            )

        try:
            return await _refusing(request, door, work)
        except Problem as problem:
            if door.gate.signed(request) and problem.status in (413, 415):
                return JSONResponse(
                    {
                        "status": "not-kept",
                        "media_id": getattr(request.state, "uri", None),
                        "reason": problem.detail,
                    },
                    200,
                )
            raise

    @router.get("/assets/{media_id:path}")
    async def asset_status(media_id: str, request: Request) -> JSONResponse:
        """200 when galley holds the file, 404 when not. Superdesk asks before uploading,
        without credentials: to such a request the answer says no more than that; with a
        key it also gives the file's type, size, SHA-256 and when it was stored."""
        known = True
        try:
            door.gate.source_for(request)
        except Problem:
            if not door.gate.keys:
                raise  # no keys configured: loopback only, as for every route
            known = False
        info = await _store(request).asset_info(media_id)
        if info is None:
            raise Problem(404, "not-found", "Not found", f"no file with media id {media_id!r}")
        shown = info if known else {"media_id": info["media_id"]}
        return JSONResponse({**shown, "href": names.media_path(media_id)})

    @router.get("/articles/{key:path}")
    async def article_status(key: str, request: Request) -> JSONResponse:
        door.gate.source_for(request)
        article = await _store(request).article(key)
        if article is None:
            raise Problem(404, "not-found", "Not found", f"no article with uri or slug {key!r}")
        return JSONResponse(
            {
                "uri": article.uri,
                "slug": article.slug,
                "version": article.version,
                "source_version": article.source_version,
                "type": article.type,
                "dialect": article.dialect,
                "url": door.page_url(article.slug),
                "lifecycle": article.lifecycle,
                "source": article.source,
                "state": domain.visibility(article, door.now()),
                "visible_from": article.visible_from.isoformat() if article.visible_from else None,
                "correction": article.correction,
                **await _store(request).history(article.uri),
            }
        )

    return router


# --- the input stream ---------------------------------------------------------------------


def _uri_in(fields: Mapping[str, str], max_bytes: int) -> str | None:
    """The uri of a parked entry's document, when it can be read at all."""
    data = fields.get("data", "")
    if len(data) > max_bytes:
        return None
    try:
        return _uri_of(read_json(data))
    except JsonRefused:
        return None


def _source(event: Envelope[Any]) -> str:
    """The newsroom source an entry names, as text a page or a database can carry."""
    return domain.without_controls(event.source)[:200] or "unknown"


# what a parked entry's reason starts with -> the problem type its article.rejected gives
PARKED_PROBLEMS = {
    "undecodable": "undecodable-entry",
    "unsupported": "unsupported",
    "unknown-type": "unknown-type",
    "too-large": "too-large",
    "schema": "invalid-document",
    "unprocessable": "unprocessable",
    "handler failed": "handler-failed",
}


@dataclass
class StreamDoor:
    """Handlers for `newsroom.submissions`; bad entries are parked and rejected."""

    store: Callable[[], IngestStore]
    dead_letters: Callable[[], DeadLetters]
    now: Clock
    max_body_bytes: int = 2 * 1024 * 1024  # INGEST_MAX_BODY_BYTES: the same as HTTP's

    async def on_article(self, event: Envelope[Submission]) -> None:
        try:
            outcome = await intake.submit_article(
                self.store(),
                event.data.root,
                source=_source(event),
                now=self.now,
                size=current_entry_bytes(),
            )
        except Invalid as exc:
            await self.refuse(
                event,
                f"{exc.problem}: {exc}",
                [e.as_dict() for e in exc.errors],
                problem=exc.problem,
            )
            return
        if outcome.decision is Decision.CONFLICT:
            await self.refuse(
                event,
                f"conflict: version {outcome.source_version} of"
                f" {outcome.uri} was already accepted with different content",
                [],
                problem="version-conflict",
            )

    async def on_author(self, event: Envelope[Submission]) -> None:
        try:
            await intake.submit_author(
                self.store(), event.data.root, source=_source(event), now=self.now
            )
        except Invalid as exc:
            await self.refuse(
                event,
                f"{exc.problem}: {exc}",
                [e.as_dict() for e in exc.errors],
                problem=exc.problem,
            )

    async def refuse(
        self,
        event: Envelope[Submission],
        reason: str,
        errors: list[dict[str, Any]],
        *,
        problem: str,
    ) -> None:
        entry_id = current_entry_id()
        await self.dead_letters().park(
            event.to_fields(),
            reason=reason,
            entry_id=entry_id,
            stream=names.NEWSROOM_SUBMISSIONS,
            group=names.INGEST_GROUP,
        )
        REJECTED.labels(problem, "stream").inc()
        await intake.reject(
            self.store(),
            Rejection(
                reason=reason,
                errors=errors,
                uri=_uri_of(event.data.root),
                entry_id=entry_id,
                source=_source(event),
                door="stream",
                problem=problem,
                dialect=dialects.detect(event.data.root),
            ),
            now=self.now,
        )
        log.warning("refused entry %s from %s: %s", entry_id, event.source, reason)

    async def on_parked(self, fields: Mapping[str, str], reason: str, entry_id: str | None) -> None:
        """An entry the consumer parked before any handler could take it (too large, not
        readable, an unknown type or specversion) or after its retries: say so downstream."""
        kind = next((v for k, v in PARKED_PROBLEMS.items() if reason.startswith(k)), None)
        problem = kind or "undecodable-entry"
        REJECTED.labels(problem, "stream").inc()
        source = fields.get("source")
        await intake.reject(
            self.store(),
            Rejection(
                reason=reason[:2000],
                uri=_uri_in(fields, self.max_body_bytes),
                entry_id=entry_id,
                source=domain.without_controls(source)[:200] if source else None,
                door="stream",
                problem=problem,
            ),
            now=self.now,
        )
