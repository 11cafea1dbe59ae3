"""Wiring only: settings -> store, Redis, broker, consumer, relay -> FastAPI app."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import redis.asyncio as aioredis
from fastapi import FastAPI

from services.ingest import problems
from services.ingest.guards import Gatekeeper, RateLimiter
from services.ingest.handlers import HttpDoor, StreamDoor, api_router
from services.ingest.intake import Clock
from services.ingest.settings import Settings
from services.ingest.store import IngestStore
from shared import names
from shared.infra import observability as obs
from shared.infra.consumer import (
    RedisDeadLetters,
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

log = logging.getLogger("galley.ingest")


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings, *, now: Clock = utcnow, monotonic: Callable[[], float] = time.monotonic
) -> FastAPI:
    obs.configure_logging(names.INGEST)
    gate = Gatekeeper(settings.keys)
    door = HttpDoor(
        gate=gate,
        limiter=RateLimiter(settings.rate_per_second, settings.rate_burst, monotonic),
        # refusals do not use up a source's rate, but a source sending little else but
        # refused documents is slowed down once it has had three bursts' worth
        refusals=RateLimiter(settings.rate_per_second, 3 * settings.rate_burst, monotonic),
        max_body_bytes=settings.max_body_bytes,
        now=now,
        max_asset_bytes=settings.max_asset_bytes,
        site_url=settings.site_url,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not gate.keys:
            log.warning("INGEST_API_KEYS is not set: only loopback clients may post")
        store = await IngestStore.open(settings.db_path)
        redis = aioredis.from_url(settings.redis_url)
        broker = new_broker(settings.redis_url)
        obs.instrument_broker(broker, names.INGEST)
        relay = OutboxRelay(
            store.db,
            RedisStreamWriter(redis),
            max_backoff=settings.relay_max_backoff,
            repair_window=settings.retention.outbox_repair_window_s,
        )
        store.on_enqueued = relay.notify
        dead_letters = RedisDeadLetters(redis, names.dead_letter_stream(names.INGEST))
        stream_door = StreamDoor(
            lambda: store, broker, lambda: dead_letters, now, settings.max_body_bytes
        )
        submissions = StreamConsumer(
            broker=broker,
            stream=names.NEWSROOM_SUBMISSIONS,
            group=names.INGEST_GROUP,
            consumer=consumer_name(names.INGEST),
            routes=obs.route_map(stream_door.routes()),
            dead_letters=lambda: dead_letters,
            on_parked=stream_door.on_parked,
            db=lambda: store.db,
            after_commit=relay.notify,
            # the input stream holds the limits of the HTTP door
            max_entry_bytes=settings.max_body_bytes,
            strict_json=True,
        )
        submissions.register()
        app.state.store, app.state.broker, app.state.relay = store, broker, relay
        app.state.redis = redis
        relay_task: asyncio.Task[None] | None = None
        heal_task: asyncio.Task[None] | None = None
        tidy_task: asyncio.Task[None] | None = None
        try:
            await ensure_group(redis, names.NEWSROOM_SUBMISSIONS, names.INGEST_GROUP)
            await broker.start()
            relay_task = asyncio.create_task(relay.run(), name="ingest-outbox-relay")
            heal_task = asyncio.create_task(
                keep_consuming([submissions], redis, trim=(names.NEWSROOM_SUBMISSIONS,)),
                name="ingest-heal",
            )
            tidy_task = asyncio.create_task(
                keep_tidy(names.INGEST, store.db, redis, settings.retention),
                name="ingest-retention",
            )
            yield
        finally:
            await broker.stop()
            await cancel_and_wait(tidy_task, heal_task, relay_task)
            await redis.aclose()
            await store.close()

    app = FastAPI(title="galley ingest", lifespan=lifespan)
    app.state.broker = None
    app.state.redis = None
    app.middleware("http")(obs.http_trace_middleware())
    problems.install(app)
    app.include_router(api_router(door))
    dlq = obs.dead_letter_probe(lambda: app.state.redis, names.dead_letter_stream(names.INGEST))
    app.include_router(ops_router(lambda: _ready(app), probes=[dlq]))
    return app


async def _ready(app: FastAPI) -> bool:
    broker = app.state.broker
    return broker is not None and await broker_is_ready(broker)
