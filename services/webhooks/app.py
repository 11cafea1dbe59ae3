"""Wiring of the webhooks service: settings -> stores, broker, dispatcher -> FastAPI."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI

from services.webhooks import ssrf
from services.webhooks.dispatcher import Dispatcher, HttpSender
from services.webhooks.handlers import make_on_published, make_router
from services.webhooks.settings import Settings
from services.webhooks.store import ALL_SCHEMA, Store
from shared import names
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
from shared.infra.db import Database
from shared.infra.http import broker_is_ready, ops_router
from shared.infra.retention import keep_tidy
from shared.infra.tasks import cancel_and_wait
from shared.models import PublishedArticle


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    now: Callable[[], datetime] = utcnow,
    resolver: ssrf.Resolver = ssrf.system_resolver,
    transport: httpx.AsyncBaseTransport | None = None,
    rand: Callable[[], float] = random.random,
) -> FastAPI:
    obs.configure_logging(names.WEBHOOKS)
    broker = new_broker(settings.redis_url)
    obs.instrument_broker(broker, names.WEBHOOKS)
    redis_holder: dict[str, aioredis.Redis] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = await Database.open(settings.db_path, schema=ALL_SCHEMA)
        store = Store(db)
        redis = aioredis.from_url(settings.redis_url)
        redis_holder["redis"] = redis
        client = httpx.AsyncClient(
            follow_redirects=False, timeout=settings.timeout, transport=transport, trust_env=False
        )
        dispatcher = Dispatcher(
            store, HttpSender(client), settings, resolver=resolver, now=now, rand=rand
        )
        app.state.store, app.state.dispatcher = store, dispatcher
        consumer = StreamConsumer(
            broker=broker,
            stream=names.ARTICLES_PUBLISHED,
            group=names.WEBHOOKS_GROUP,
            consumer=consumer_name(names.WEBHOOKS),
            routes=obs.route_map(
                {
                    t: Route(PublishedArticle, make_on_published(store, dispatcher.notify, now))
                    for t in names.PUBLISHED_EVENT_TYPES
                }
            ),
            dead_letters=lambda: RedisDeadLetters(redis, names.dead_letter_stream(names.WEBHOOKS)),
            claim_idle_ms=settings.claim_idle_ms,
            db=lambda: db,
            after_commit=dispatcher.notify,
        )
        consumer.register()
        await ensure_group(redis, names.ARTICLES_PUBLISHED, names.WEBHOOKS_GROUP)
        await broker.start()
        tasks = [
            asyncio.create_task(dispatcher.run(), name="webhook-dispatcher"),
            asyncio.create_task(keep_consuming([consumer], redis), name="webhook-heal"),
            asyncio.create_task(
                keep_tidy(names.WEBHOOKS, db, redis, settings.retention), name="webhook-retention"
            ),
        ]
        try:
            yield
        finally:
            await broker.stop()
            await cancel_and_wait(*tasks)
            await client.aclose()
            await redis.aclose()
            await db.close()

    app = FastAPI(title="galley webhooks", lifespan=lifespan)
    app.state.broker = broker
    dlq = obs.dead_letter_probe(
        lambda: redis_holder.get("redis"), names.dead_letter_stream(names.WEBHOOKS)
    )
    app.middleware("http")(obs.http_trace_middleware())
    app.include_router(ops_router(lambda: broker_is_ready(broker), probes=[dlq]))
    app.include_router(
        make_router(
            now=now,
            resolver=resolver,
            allow_loopback=settings.allow_loopback,
            notify=lambda: app.state.dispatcher.notify(),
            admin_key=settings.admin_key,
        )
    )
    problems.install(app)
    return app
