"""Wiring only: settings -> store, broker, consumers, outbox relay, HTTP routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import redis.asyncio as aioredis
from fastapi import FastAPI

from services.enrichment import domain
from services.enrichment.handlers import Enrichment, http_router
from services.enrichment.settings import Settings
from services.enrichment.store import Store, Tx
from shared import names
from shared.envelope import Envelope
from shared.infra import observability as obs
from shared.infra import problems
from shared.infra.consumer import (
    RedisDeadLetters,
    Route,
    StreamConsumer,
    consumer_name,
    ensure_group,
    keep_consuming,
    new_broker,
)
from shared.infra.http import broker_is_ready, ops_router
from shared.infra.outbox import OutboxRelay, RedisStreamWriter
from shared.infra.retention import keep_tidy
from shared.infra.tasks import cancel_and_wait
from shared.models import Article, AuthorProfile


def utcnow() -> datetime:
    return datetime.now(UTC)


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


def create_app(settings: Settings, *, now: Callable[[], datetime] = utcnow) -> FastAPI:
    obs.configure_logging(names.ENRICHMENT)
    broker = new_broker(settings.redis_url)
    obs.instrument_broker(broker, names.ENRICHMENT)
    holder: dict[str, Enrichment] = {}
    redis_holder: dict[str, aioredis.Redis] = {}

    async def on_article(event: Envelope[Article]) -> None:
        await holder["service"].on_article(event)

    async def on_author(event: Envelope[AuthorProfile]) -> None:
        await holder["service"].on_author(event)

    def dead_letters() -> RedisDeadLetters:
        return RedisDeadLetters(redis_holder["redis"], names.dead_letter_stream(names.ENRICHMENT))

    streams = {
        names.ARTICLES_INGESTED: {names.ARTICLE_INGESTED: Route(Article, on_article)},
        names.AUTHORS_UPDATED: {names.AUTHOR_UPDATED: Route(AuthorProfile, on_author)},
    }
    consumers = [
        StreamConsumer(
            broker=broker,
            stream=stream,
            group=names.ENRICHMENT_GROUP,
            consumer=consumer_name(names.ENRICHMENT),
            routes=obs.route_map(routes),
            dead_letters=dead_letters,
            claim_idle_ms=settings.claim_idle_ms,
            max_deliveries=settings.max_deliveries,
            db=lambda: holder["service"].store.db,
            after_commit=lambda: holder["service"].on_commit(),
        )
        for stream, routes in streams.items()
    ]
    for consumer in consumers:
        consumer.register()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await Store.open(str(settings.db_path))
        redis = aioredis.from_url(settings.redis_url)
        redis_holder["redis"] = redis
        relay = OutboxRelay(
            store.db,
            RedisStreamWriter(redis),
            repair_window=settings.retention.outbox_repair_window_s,
        )
        service = Enrichment(store, now=now, on_commit=relay.notify)
        seen = await store.last_change()  # before load: what comes after is caught up
        await service.load()
        store.on_begin = catch_up_with_replicas(service, seen)
        holder["service"] = service
        app.state.store, app.state.service, app.state.relay = store, service, relay
        for stream in streams:
            await ensure_group(redis, stream, names.ENRICHMENT_GROUP)
        await broker.start()
        tasks = [
            asyncio.create_task(relay.run(), name="enrichment-outbox-relay"),
            asyncio.create_task(
                keep_consuming(consumers, redis, trim=tuple(streams)), name="enrichment-heal"
            ),
            asyncio.create_task(
                keep_tidy(names.ENRICHMENT, store.db, redis, settings.retention),
                name="enrichment-retention",
            ),
        ]
        try:
            yield
        finally:
            await broker.stop()
            await cancel_and_wait(*tasks)
            await redis.aclose()
            await store.close()

    app = FastAPI(title="galley enrichment", lifespan=lifespan)
    app.state.broker = broker
    dlq = obs.dead_letter_probe(
        lambda: redis_holder.get("redis"), names.dead_letter_stream(names.ENRICHMENT)
    )
    app.middleware("http")(obs.http_trace_middleware())
    app.include_router(ops_router(lambda: broker_is_ready(broker), probes=[dlq]))
    app.include_router(http_router(lambda: holder["service"]))
    problems.install(app)
    return app
