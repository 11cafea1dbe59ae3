"""The one path both front doors (HTTP and the input stream) share.

Validate and normalize outside the transaction; inside it decide on the version,
fix the slug, store the version and queue its event, all or nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.ingest import domain
from services.ingest.assets import Upload, check
from services.ingest.domain import Decision
from services.ingest.ninjs import Item
from services.ingest.store import IngestStore
from shared import names
from shared.events import new_event
from shared.infra.db import run_sync
from shared.infra.outbox import enqueue, enqueue_sync
from shared.models import Article, Asset, AuthorProfile, Rejection

log = logging.getLogger("galley.ingest")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    uri: str
    version: int  # galley's version: the accepted one, else the stored one
    current_version: int
    article: Article | None = None  # set when accepted
    source_version: str | None = None  # the newsroom's version as sent
    dialect: str | None = None
    slug: str | None = None  # the story's slug (also when nothing changed)


def referenced_media(doc: Item) -> set[str]:
    """Every media id the item's and its associations' renditions name."""
    found: set[str] = set()
    stack = [doc]
    while stack:
        item = stack.pop()
        found.update(r.media for r in item.renditions if r.media)
        stack.extend(item.associations)
    return found


# A document this large (its JSON, in bytes) is read and normalized on a worker thread:
# the work is linear, but at the 2 MiB limit it can take a second or more, and the event
# loop (health checks, other requests, the stream reader) must not wait for it.
LARGE_DOCUMENT = 128 * 1024


async def _off_loop(size: int, work: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(work) if size > LARGE_DOCUMENT else work()


async def submit_article(
    store: IngestStore, raw: Any, *, source: str, now: Clock, size: int = 0
) -> Outcome:
    """Accept one ninjs version in any dialect; raises domain.Invalid when the document is
    wrong (or has nothing to show). `size`: the document's bytes, when known."""
    parsed: domain.Parsed = await _off_loop(size, functools.partial(domain.parse_article, raw))
    assets = await store.held_assets(referenced_media(parsed.doc))

    def normalized() -> tuple[Article, str]:
        article = domain.normalize(parsed, source=source, assets=assets)
        return article, domain.content_hash(parsed)

    draft, digest = await _off_loop(size, normalized)
    incoming = domain.Incoming(parsed.doc.version, parsed.doc.versioncreated, digest)
    at = now()
    async with store.db.transaction() as conn:
        outcome = await run_sync(conn, _accept_article, parsed, draft, incoming, source, at)
    if outcome.decision is Decision.STALE:
        log.warning(
            "stale version %s of %s (stored: %s) ignored",
            outcome.source_version,
            outcome.uri,
            outcome.current_version,
        )
    if outcome.article is not None:
        store.on_enqueued()
    return outcome


def _accept_article(
    conn: sqlite3.Connection,
    parsed: domain.Parsed,
    draft: Article,
    incoming: domain.Incoming,
    source: str,
    at: datetime,
) -> Outcome:
    """The transaction's body, on SQLite's thread: decide, fix the slug, store, queue."""
    uri = parsed.uri
    current = IngestStore.current(conn, uri)
    decision = domain.decide(current, incoming)
    if current is not None and decision is not Decision.ACCEPTED:
        if decision is Decision.STALE:
            IngestStore.record_stale(conn, uri, incoming.version, current.version, source, at)
        return Outcome(
            decision,
            uri,
            current.version,
            current.version,
            source_version=incoming.version,
            dialect=parsed.dialect,
            slug=current.slug,
        )
    version = domain.ordinal(current, incoming.version)
    slug = (
        current.slug
        if current
        else IngestStore.free_slug(conn, domain.slugify(draft.headline), uri)
    )
    lifecycle = domain.lifecycle_of(parsed, seen_before=current is not None)
    article = draft.model_copy(
        update={"slug": slug, "lifecycle": lifecycle, "version": version, "accepted_at": at}
    )
    IngestStore.save_version(conn, article, incoming.content_hash, at)
    enqueue_sync(
        conn,
        new_event(names.ARTICLE_INGESTED, article, subject=article.uri, time=at),
    )
    return Outcome(decision, uri, version, version, article, incoming.version, parsed.dialect, slug)


async def submit_asset(
    store: IngestStore, upload: Upload, *, max_bytes: int, now: Clock
) -> tuple[Asset, bool]:
    """Keep a pushed media file and send it on to the site; (asset, False) when galley
    already held the same bytes (it is sent on again all the same: the site may have
    lost it, and keeping it twice changes nothing). Raises AssetRefused when the file is
    not kept."""
    at = now()
    asset = check(upload, max_bytes).model_copy(update={"stored_at": at})
    async with store.db.transaction() as conn:
        changed = await run_sync(conn, _keep_asset, asset, upload.content, at)
    store.on_enqueued()
    return asset, changed


def _keep_asset(conn: sqlite3.Connection, asset: Asset, content: bytes, at: datetime) -> bool:
    changed = IngestStore.asset_sha256(conn, asset.media_id) != asset.sha256
    if changed:
        IngestStore.save_asset(conn, asset, content, at)
    enqueue_sync(
        conn,
        new_event(names.ASSET_STORED, asset, subject=asset.media_id, time=at),
    )
    return changed


async def submit_author(
    store: IngestStore, raw: Any, *, source: str, now: Clock
) -> tuple[AuthorProfile, bool]:
    """Store a profile and emit author.updated; (profile, False) when nothing changed."""
    profile = domain.parse_author(raw)
    digest = domain.content_hash(profile)
    at = now()
    async with store.db.transaction() as conn:
        if await store.author_hash(conn, profile.slug) == digest:
            return profile, False
        await store.save_author(conn, profile, digest, source, at)
        await enqueue(
            conn,
            new_event(names.AUTHOR_UPDATED, profile, subject=profile.slug, time=at),
        )
    store.on_enqueued()
    return profile, True


async def reject(store: IngestStore, rejection: Rejection, *, now: Clock) -> None:
    """Queue an article.rejected event saying why an input was refused."""
    async with store.db.transaction() as conn:
        await enqueue(
            conn,
            new_event(names.ARTICLE_REJECTED, rejection, subject=rejection.uri, time=now()),
        )
    store.on_enqueued()
