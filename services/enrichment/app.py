"""Enrichment as a service: its store and in-memory indexes, its handlers, its HTTP routes.

Everything else (Redis, broker, consumers, relay, health, metrics) is wired the same way
for every service by shared/infra/service.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import FastAPI

from services.enrichment import domain
from services.enrichment.handlers import Enrichment, http_router
from services.enrichment.settings import Settings
from services.enrichment.store import Store, Tx
from shared import names
from shared.infra import problems
from shared.infra.service import Running, Runtime, Service, ServiceApp, build, utcnow


def catch_up_with_replicas(service: Enrichment, seen: int) -> Callable[[Tx], Awaitable[None]]:
    """Before each write, apply what other replicas committed since we last looked, so
    every replica ranks related links against the same archive and directory."""
    position = {"seq": seen}

    async def catch_up(tx: Tx) -> None:
        rows, trimmed = await tx.changes_since(position["seq"])
        if trimmed:
            await service.load()
        own = service.store.own_changes
        for seq, kind, key in rows:
            if seq in own:
                own.discard(seq)
            elif kind == "article":
                stored = await tx.enriched(key)
                if stored is None:
                    service.index.remove(key)
                else:
                    service.index.add(domain.doc_of(stored))
            elif kind == "author" and (profile := await tx.profile(key)) is not None:
                service.directory.put(profile)
        if rows:
            position["seq"] = rows[-1][0]

    return catch_up


def create_app(settings: Settings, *, now: Callable[[], datetime] = utcnow) -> ServiceApp:
    async def start(runtime: Runtime) -> Running:
        store = await Store.open(str(settings.db_path))
        service = Enrichment(store, now=now, on_commit=runtime.notify)
        seen = await store.last_change()  # before load: what comes after is caught up
        await service.load()
        store.on_begin = catch_up_with_replicas(service, seen)
        return Running(
            db=store.db,
            handlers={
                names.ARTICLE_INGESTED: service.on_article,
                names.AUTHOR_UPDATED: service.on_author,
            },
            state={"store": store, "service": service},
        )

    def http(runtime: Runtime) -> FastAPI:
        app = FastAPI(title="galley enrichment")
        app.include_router(http_router())
        problems.install(app)
        return app

    return build(Service(name=names.ENRICHMENT, settings=settings, start=start, http=http))
