"""Stream handlers and HTTP routes of enrichment: translate, call domain, persist, emit."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from prometheus_client import Counter

from services.enrichment import domain
from services.enrichment.bylines import Directory, profile_keys
from services.enrichment.related import RelatedIndex
from services.enrichment.store import Store, Tx
from shared import names
from shared.envelope import Envelope
from shared.events import new_event
from shared.models import Article, AuthorProfile, EnrichedArticle

log = logging.getLogger("galley.enrichment")

UNKNOWN_AUTHORS = Counter(
    "galley_enrichment_unknown_authors", "Byline authors not found in the author directory"
)
REENRICHED = Counter(
    "galley_enrichment_reenriched", "Articles re-enriched because a fact changed", ["reason"]
)


class Enrichment:
    """The service's state in memory (directory, related index) over its SQLite store."""

    def __init__(
        self,
        store: Store,
        *,
        now: Callable[[], datetime],
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.now = now
        self.on_commit = on_commit
        self.directory = Directory()
        self.index = RelatedIndex()
        self._lock = asyncio.Lock()  # one change at a time: memory and SQLite move together

    async def load(self) -> None:
        """Rebuild the directory and the related index from SQLite (at startup)."""
        self.directory = Directory(await self.store.profiles())
        index = RelatedIndex()
        for article in await self.store.archive():
            index.add(domain.doc_of(article))
        self.index = index
        gc.collect()
        gc.freeze()  # the rebuilt index is long-lived: spare it the collector's scans
        log.info(
            "enrichment loaded %d authors, %d articles", len(self.directory.profiles()), len(index)
        )

    # -- stream handlers ----------------------------------------------------------------

    async def on_article(self, event: Envelope[Article]) -> None:
        article = event.data
        async with self._lock:
            try:
                async with self.store.transaction() as tx:
                    if not await self._is_new(tx, event.id, article):
                        return
                    await self._accept(tx, article)
            except BaseException:
                await self._restore_article(article.uri)
                raise
        self.on_commit()

    async def _is_new(self, tx: Tx, event_id: str, article: Article) -> bool:
        first, stored = await tx.claim(event_id, article.uri)
        return first and (stored is None or article.version > stored)

    async def _accept(self, tx: Tx, article: Article) -> None:
        now = self.now()
        enriched = domain.enrich(article, directory=self.directory, index=self.index, now=now)
        UNKNOWN_AUTHORS.inc(len(domain.unknown_authors(enriched.authors)))
        await self._save(tx, enriched)
        self.index.add(domain.doc_of(article))
        if domain.is_killed(article):
            for uri in await tx.linking_to(article.uri):
                await self._reenrich(
                    tx, uri, "kill", lambda e: domain.with_fresh_related(e, self.index, now)
                )

    async def on_author(self, event: Envelope[AuthorProfile]) -> None:
        profile = event.data
        async with self._lock:
            old = self.directory.get(profile.slug)
            try:
                async with self.store.transaction() as tx:
                    if (
                        not await tx.first_time(event.id)
                        or await tx.profile(profile.slug) == profile
                    ):
                        return
                    await tx.save_profile(profile)
                    self.directory.put(profile)
                    keys = profile_keys(profile) | (profile_keys(old) if old else set())
                    now = self.now()
                    for uri in await tx.naming(keys, profile.slug):
                        await self._reenrich(
                            tx,
                            uri,
                            "author",
                            lambda e: domain.with_fresh_authors(e, self.directory, now),
                        )
            except BaseException:
                if old is not None:
                    self.directory.put(old)
                raise
        self.on_commit()

    async def _reenrich(
        self,
        tx: Tx,
        uri: str,
        reason: str,
        change: Callable[[EnrichedArticle], EnrichedArticle | None],
    ) -> None:
        current = await tx.enriched(uri)
        updated = change(current) if current is not None else None
        if updated is not None:
            REENRICHED.labels(reason).inc()
            await self._save(tx, updated)

    async def _save(self, tx: Tx, enriched: EnrichedArticle) -> None:
        await tx.save(
            enriched,
            killed=domain.is_killed(enriched),
            names_rows=domain.name_rows(enriched),
            event=new_event(
                names.ARTICLE_ENRICHED, enriched, subject=enriched.uri, time=self.now()
            ),
        )

    async def _restore_article(self, uri: str) -> None:
        """After a failed transaction, put the index entry back as SQLite has it."""
        stored = await self.store.enriched(uri)
        if stored is None:
            self.index.remove(uri)
        else:
            self.index.add(domain.doc_of(stored))

    # -- queries ---------------------------------------------------------------------------

    async def related(self, uri: str, k: int) -> dict[str, Any] | None:
        article = await self.store.enriched(uri)
        if article is None:
            return None
        links = (
            []
            if domain.is_killed(article)
            else domain.related_links(article, self.index, now=self.now(), k=k)
        )
        return {"uri": uri, "k": k, "related": [link.model_dump(mode="json") for link in links]}


def _service(request: Request) -> Enrichment:
    """The running service (app.state.service, set when the service starts)."""
    service: Enrichment = request.app.state.service
    return service


Running = Annotated[Enrichment, Depends(_service)]


def http_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["enrichment"])

    @router.get("/related")
    async def related(
        service: Running,
        uri: Annotated[str, Query(min_length=1, max_length=2000)],
        k: Annotated[int, Query(ge=1, le=domain.MAX_K)] = domain.DEFAULT_K,
    ) -> dict[str, Any]:
        found = await service.related(uri, k)
        if found is None:
            raise HTTPException(404, f"no article with uri {uri!r} in the archive")
        return found

    @router.get("/authors/unknown")
    async def unknown_authors(service: Running) -> dict[str, Any]:
        return {"authors": await service.store.unknown_authors()}

    @router.get("/authors")
    async def authors(service: Running) -> dict[str, Any]:
        profiles = service.directory.profiles()
        return {"authors": [p.model_dump(mode="json") for p in profiles]}

    return router
