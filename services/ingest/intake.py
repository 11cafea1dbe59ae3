"""The one path both front doors (HTTP and the input stream) share.

Validate and normalize outside the transaction; inside it decide on the version,
fix the slug, store the version and queue its event, all or nothing.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.ingest import domain
from services.ingest.domain import Decision
from services.ingest.store import IngestStore
from shared import names
from shared.envelope import Envelope
from shared.infra.db import run_sync
from shared.infra.outbox import enqueue, enqueue_sync
from shared.models import Article, AuthorProfile, Rejection

log = logging.getLogger("galley.ingest")

Clock = Callable[[], datetime]
SOURCE = names.source_of(names.INGEST)


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    uri: str
    version: int
    current_version: int
    article: Article | None = None  # set when accepted


async def submit_article(store: IngestStore, raw: Any, *, source: str, now: Clock) -> Outcome:
    """Accept one ninjs version; raises domain.Invalid when the document is wrong."""
    doc = domain.parse_article(raw)
    draft = domain.normalize(doc, source=source)
    digest = domain.content_hash(doc)
    at = now()
    async with store.db.transaction() as conn:
        outcome = await run_sync(conn, _accept_article, doc, draft, digest, source, at)
    if outcome.decision is Decision.STALE:
        log.warning("stale version %s of %s (stored: %s) ignored",
                    outcome.version, outcome.uri, outcome.current_version)
    if outcome.article is not None:
        store.on_enqueued()
    return outcome


def _accept_article(conn: sqlite3.Connection, doc: Any, draft: Article, digest: str,
                    source: str, at: datetime) -> Outcome:
    """The transaction's body, on SQLite's thread: decide, fix the slug, store, queue."""
    current = IngestStore.current(conn, doc.uri)
    decision = domain.decide(current, doc.version, digest)
    if current is not None and decision is not Decision.ACCEPTED:
        if decision is Decision.STALE:
            IngestStore.record_stale(conn, doc.uri, doc.version, current.version, source, at)
        return Outcome(decision, doc.uri, doc.version, current.version)
    slug = current.slug if current else IngestStore.free_slug(
        conn, domain.slugify(draft.headline), doc.uri)
    lifecycle = domain.lifecycle_of(doc, seen_before=current is not None)
    article = draft.model_copy(update={"slug": slug, "lifecycle": lifecycle,
                                         "accepted_at": at})
    IngestStore.save_version(conn, article, digest, at)
    enqueue_sync(conn, names.ARTICLES_INGESTED, Envelope[Article](
        source=SOURCE, type=names.ARTICLE_INGESTED, subject=article.uri, time=at,
        data=article))
    return Outcome(decision, doc.uri, doc.version, doc.version, article)


async def submit_author(store: IngestStore, raw: Any, *, source: str, now: Clock
                        ) -> tuple[AuthorProfile, bool]:
    """Store a profile and emit author.updated; (profile, False) when nothing changed."""
    profile = domain.parse_author(raw)
    digest = domain.content_hash(profile)
    at = now()
    async with store.db.transaction() as conn:
        if await store.author_hash(conn, profile.slug) == digest:
            return profile, False
        await store.save_author(conn, profile, digest, source, at)
        await enqueue(conn, names.AUTHORS_UPDATED, Envelope[AuthorProfile](
            source=SOURCE, type=names.AUTHOR_UPDATED, subject=profile.slug, time=at,
            data=profile))
    store.on_enqueued()
    return profile, True


async def reject(store: IngestStore, rejection: Rejection, *, now: Clock) -> None:
    """Queue an article.rejected event saying why an input was refused."""
    async with store.db.transaction() as conn:
        await enqueue(conn, names.ARTICLES_REJECTED, Envelope[Rejection](
            source=SOURCE, type=names.ARTICLE_REJECTED, subject=rejection.uri, time=now(),
            data=rejection))
    store.on_enqueued()
