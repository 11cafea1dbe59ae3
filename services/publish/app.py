"""Wiring only: settings -> store, Redis, broker, scheduler, relay -> FastAPI app."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from shared import names
from shared.infra import observability as obs
from shared.infra.consumer import (
    RedisDeadLetters,
    consumer_name,
    ensure_group,
    keep_consuming,
    new_broker,
)
from shared.infra.http import broker_is_ready, ops_router
from shared.infra.outbox import OutboxRelay, RedisStreamWriter
from shared.infra.problems import invalid_request
from shared.infra.retention import keep_tidy
from shared.infra.tasks import cancel_and_wait
from shared.models import Asset

from .assets import MAX_RECORDS, AssetStore, asset_handler, media_router
from .formats import Site
from .handlers import article_handler, problem, register_consumer, site_router
from .scheduler import Scheduler
from .security import security_headers
from .settings import Settings
from .store import Store
from .views import STATIC, Views
from .web import Compression, StaticBundle, Validators

Lifespan = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_site(
    settings: Settings, *, now: Callable[[], datetime] = utcnow, lifespan: Lifespan | None = None
) -> FastAPI:
    """The reader-facing routes and middleware; without a lifespan the caller sets the store."""
    static = StaticBundle(STATIC)
    views = Views(Site(base_url=settings.base_url, name=settings.site_name), static)
    app = FastAPI(
        title="galley publish",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    _openapi_without_head(app)
    app.middleware("http")(security_headers)

    async def last_change() -> datetime | None:
        store: Store | None = getattr(app.state, "store", None)
        return await store.last_change() if store is not None else None

    # innermost first: validators see the page as rendered, gzip compresses what they send
    app.add_middleware(
        Validators, last_change=last_change, started=now(), undated=("/sitemap-news.xml",)
    )
    app.add_middleware(Compression)
    app.include_router(static.router())
    app.include_router(site_router(views, settings.page_size, settings.feed_size, now))
    app.include_router(media_router(lambda: app.state.assets))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith(("/v1/", "/feed/")):
            return problem(exc.status_code, "Request failed", str(exc.detail))
        title = "Not found" if exc.status_code == 404 else "Request failed"
        return views.render(
            request, "error.html", exc.status_code, title=title, message=str(exc.detail)
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return invalid_request(exc).response(request.url.path)

    return app


def _openapi_without_head(app: FastAPI) -> None:
    """Pages answer HEAD as well as GET; the OpenAPI document lists the GET only."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # GET and HEAD share an id
                schema = original()
            for operations in schema.get("paths", {}).values():
                operations.pop("head", None)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _observe_latency(entries: list[tuple[str, dict[str, str]]]) -> None:
    """End-to-end latency of each event the relay appended to articles.published."""
    moment = utcnow()
    for stream, fields in entries:
        if stream == names.ARTICLES_PUBLISHED:
            obs.observe_latency(fields, moment)


def create_app(settings: Settings, *, now: Callable[[], datetime] = utcnow) -> FastAPI:
    obs.configure_logging(names.PUBLISH)
    broker = new_broker(settings.redis_url)
    obs.instrument_broker(broker, names.PUBLISH)
    redis_holder: dict[str, aioredis.Redis] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await Store.open(str(settings.db_path))
        assets = await AssetStore.open(store.db)
        redis = aioredis.from_url(settings.redis_url)
        redis_holder["redis"] = redis
        relay = OutboxRelay(
            store.db,
            RedisStreamWriter(redis, on_appended=_observe_latency),
            repair_window=settings.retention.outbox_repair_window_s,
        )
        scheduler = Scheduler(store, now, relay.notify, max_wait=settings.scheduler_poll)
        app.state.store, app.state.relay, app.state.scheduler = store, relay, scheduler
        app.state.assets = assets

        def on_change() -> None:
            relay.notify()
            scheduler.wake()

        def dead_letters() -> RedisDeadLetters:
            return RedisDeadLetters(redis, names.dead_letter_stream(names.PUBLISH))

        consumer = register_consumer(
            broker,
            consumer_name(names.PUBLISH),
            obs.traced(article_handler(lambda: store, now, on_change)),
            dead_letters,
            db=lambda: store.db,
            after_commit=on_change,
        )
        asset_consumer = register_consumer(
            broker,
            consumer_name(names.PUBLISH),
            obs.traced(asset_handler(lambda: assets)),
            dead_letters,
            stream=names.ASSETS_STORED,
            route=(names.ASSET_STORED, Asset),
            max_records=MAX_RECORDS,
            db=lambda: store.db,
        )
        await ensure_group(redis, names.ARTICLES_ENRICHED, names.PUBLISH_GROUP)
        await ensure_group(redis, names.ASSETS_STORED, names.PUBLISH_GROUP)
        await broker.start()
        tasks = [
            asyncio.create_task(relay.run(), name="publish-outbox-relay"),
            asyncio.create_task(scheduler.run(), name="publish-scheduler"),
            asyncio.create_task(
                keep_consuming(
                    [consumer, asset_consumer],
                    redis,
                    trim=(names.ARTICLES_ENRICHED, names.ASSETS_STORED),
                ),
                name="publish-heal",
            ),
            asyncio.create_task(
                keep_tidy(names.PUBLISH, store.db, redis, settings.retention),
                name="publish-retention",
            ),
        ]
        try:
            yield
        finally:
            await broker.stop()
            await cancel_and_wait(*reversed(tasks))
            await redis.aclose()
            await store.close()

    app = create_site(settings, now=now, lifespan=lifespan)
    app.state.broker = broker
    dlq = obs.dead_letter_probe(
        lambda: redis_holder.get("redis"), names.dead_letter_stream(names.PUBLISH)
    )
    app.middleware("http")(obs.http_trace_middleware())
    app.include_router(ops_router(lambda: broker_is_ready(broker), probes=[dlq]))
    return app
