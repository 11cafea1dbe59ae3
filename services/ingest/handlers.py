"""The two front doors: HTTP routes and the `newsroom.submissions` stream handlers.

Both translate their input, call `intake`, and translate the outcome back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from faststream.redis import RedisBroker

from services.ingest import domain, intake
from services.ingest.domain import Decision, Invalid
from services.ingest.guards import (
    Gatekeeper,
    RateLimiter,
    check_content_type,
    parse_json,
    read_limited,
)
from services.ingest.intake import Clock, Outcome
from services.ingest.problems import Problem
from services.ingest.store import IngestStore
from shared import names
from shared.envelope import Envelope
from shared.infra.consumer import DeadLetters, Route, current_entry_id
from shared.models import Rejection

log = logging.getLogger("galley.ingest")


# --- HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpDoor:
    gate: Gatekeeper
    limiter: RateLimiter
    max_body_bytes: int
    now: Clock

    async def admit(self, request: Request) -> tuple[str, Any]:
        """Auth, rate limit, content type, size, JSON: (source, document) or a Problem."""
        source = self.gate.source_for(request)
        self.limiter.check(source)
        check_content_type(request)
        body = await read_limited(request, self.max_body_bytes)
        return source, parse_json(body, domain.MAX_DEPTH)


def _store(request: Request) -> IngestStore:
    store: IngestStore = request.app.state.store
    return store


def _article_answer(outcome: Outcome) -> JSONResponse:
    body: dict[str, Any] = {"status": outcome.decision.value, "uri": outcome.uri,
                            "version": outcome.version}
    if outcome.decision is Decision.CONFLICT:
        raise Problem(409, "version-conflict", "Version conflict",
                      f"version {outcome.version} of {outcome.uri} was already accepted with"
                      " different content; send it as a new version",
                      uri=outcome.uri, version=outcome.version)
    if outcome.article is None:
        return JSONResponse({**body, "current_version": outcome.current_version}, 200)
    article = outcome.article
    visible_from = article.visible_from.isoformat() if article.visible_from else None
    body.update(slug=article.slug, lifecycle=article.lifecycle, visible_from=visible_from)
    return JSONResponse(body, 202, headers={"Location": f"/v1/articles/{article.slug}"})


def api_router(door: HttpDoor) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["ingest"])

    @router.post("/articles", status_code=202)
    async def post_article(request: Request) -> JSONResponse:
        source, document = await door.admit(request)
        outcome = await intake.submit_article(_store(request), document, source=source,
                                              now=door.now)
        return _article_answer(outcome)

    @router.post("/authors", status_code=202)
    async def post_author(request: Request) -> JSONResponse:
        source, document = await door.admit(request)
        profile, changed = await intake.submit_author(_store(request), document, source=source,
                                                      now=door.now)
        return JSONResponse({"status": "accepted" if changed else "unchanged",
                             "slug": profile.slug}, 202 if changed else 200)

    @router.get("/articles/{key:path}")
    async def article_status(key: str, request: Request) -> JSONResponse:
        door.gate.source_for(request)
        article = await _store(request).article(key)
        if article is None:
            raise Problem(404, "not-found", "Not found", f"no article with uri or slug {key!r}")
        return JSONResponse({
            "uri": article.uri, "slug": article.slug, "version": article.version,
            "lifecycle": article.lifecycle, "source": article.source,
            "state": domain.visibility(article, door.now()),
            "visible_from": article.visible_from.isoformat() if article.visible_from else None,
            "correction": article.correction,
            **await _store(request).history(article.uri),
        })

    return router


# --- the input stream ---------------------------------------------------------------------


def _entry_id(broker: RedisBroker) -> str | None:
    """The Redis id of the entry being handled (the consumer's, else FastStream's context)."""
    if (entry_id := current_entry_id()) is not None:
        return entry_id
    msg = broker.context.get_local("message")
    raw = getattr(msg, "raw_message", None)
    ids = raw.get("message_ids") if isinstance(raw, dict) else None
    if not ids:
        return None
    return ids[0].decode() if isinstance(ids[0], bytes) else str(ids[0])


def _uri_in(fields: Mapping[str, str]) -> str | None:
    try:
        data = json.loads(fields.get("data", ""))
    except (ValueError, RecursionError):
        return None
    uri = data.get("uri") if isinstance(data, dict) else None
    return uri if isinstance(uri, str) else None


@dataclass
class StreamDoor:
    """Handlers for `newsroom.submissions`; bad entries are parked and rejected."""

    store: Callable[[], IngestStore]
    broker: RedisBroker
    dead_letters: Callable[[], DeadLetters]
    now: Clock

    def routes(self) -> dict[str, Route]:
        article, author = Route(dict, self.on_article), Route(dict, self.on_author)  # type: ignore[arg-type]
        return {names.ARTICLE_SUBMITTED: article, "article": article,
                names.AUTHOR_SUBMITTED: author, "author": author}

    async def on_article(self, event: Envelope[dict[str, Any]]) -> None:
        try:
            outcome = await intake.submit_article(self.store(), event.data, source=event.source,
                                                  now=self.now)
        except Invalid as exc:
            await self.refuse(event, f"invalid: {exc}", [e.as_dict() for e in exc.errors])
            return
        if outcome.decision is Decision.CONFLICT:
            await self.refuse(event, f"conflict: version {outcome.version} of {outcome.uri} was"
                              " already accepted with different content", [])

    async def on_author(self, event: Envelope[dict[str, Any]]) -> None:
        try:
            await intake.submit_author(self.store(), event.data, source=event.source,
                                       now=self.now)
        except Invalid as exc:
            await self.refuse(event, f"invalid: {exc}", [e.as_dict() for e in exc.errors])

    async def refuse(self, event: Envelope[dict[str, Any]], reason: str,
                     errors: list[dict[str, Any]]) -> None:
        entry_id = _entry_id(self.broker)
        await self.dead_letters().park(event.to_fields(), reason=reason, entry_id=entry_id,
                                       stream=names.NEWSROOM_SUBMISSIONS,
                                       group=names.INGEST_GROUP)
        uri = event.data.get("uri") if isinstance(event.data.get("uri"), str) else None
        await intake.reject(self.store(), Rejection(
            reason=reason, errors=errors, uri=uri, entry_id=entry_id, source=event.source,
        ), now=self.now)
        log.warning("refused entry %s from %s: %s", entry_id, event.source, reason)

    async def on_parked(self, fields: Mapping[str, str], reason: str,
                        entry_id: str | None) -> None:
        """An entry the consumer could not even decode: say so downstream."""
        await intake.reject(self.store(), Rejection(
            reason=reason, uri=_uri_in(fields), entry_id=entry_id, source=fields.get("source"),
        ), now=self.now)
