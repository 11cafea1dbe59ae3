"""Publish as a service: the reader-facing site, its store, scheduler and handlers.

Everything else (Redis, broker, consumers, relay, health, metrics) is wired the same way
for every service by shared/infra/service.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from services.publish.assets import MAX_RECORDS, AssetStore, asset_handler, media_router
from services.publish.formats import Site
from services.publish.handlers import article_handler, problem, site_router
from services.publish.scheduler import Scheduler
from services.publish.security import security_headers
from services.publish.settings import Settings
from services.publish.store import Store
from services.publish.views import STATIC, Views
from services.publish.web import Compression, StaticBundle, Validators
from shared import names
from shared.infra import observability as obs
from shared.infra.problems import invalid_request
from shared.infra.service import Reads, Running, Runtime, Service, ServiceApp, build, utcnow


def create_site(settings: Settings, *, now: Callable[[], datetime] = utcnow) -> FastAPI:
    """The reader-facing routes and middleware; the service (or a test) sets app.state.store
    and app.state.assets."""
    static = StaticBundle(STATIC)
    views = Views(Site(base_url=settings.base_url, name=settings.site_name), static)
    app = FastAPI(
        title="galley publish",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
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
    app.include_router(media_router())

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


def create_app(settings: Settings, *, now: Callable[[], datetime] = utcnow) -> ServiceApp:
    async def start(runtime: Runtime) -> Running:
        store = await Store.open(str(settings.db_path))
        assets = await AssetStore.open(store.db)
        scheduler = Scheduler(store, now, runtime.notify, max_wait=settings.scheduler_poll)
        handle_article = article_handler(lambda: store, now, scheduler.wake)
        return Running(
            db=store.db,
            handlers={
                names.ARTICLE_ENRICHED: handle_article,
                names.ASSET_STORED: asset_handler(lambda: assets),
            },
            state={"store": store, "assets": assets, "scheduler": scheduler},
            loops=[("scheduler", scheduler.run)],
            on_commit=scheduler.wake,
        )

    def http(runtime: Runtime) -> FastAPI:
        return create_site(settings, now=now)

    return build(
        Service(
            name=names.PUBLISH,
            settings=settings,
            start=start,
            http=http,
            reads={names.ASSETS_STORED: Reads(max_records=MAX_RECORDS)},
            on_appended=_observe_latency,
        )
    )
