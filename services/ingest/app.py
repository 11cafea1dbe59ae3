"""Ingest as a service: its store, the input stream's handlers and the HTTP doors.

Everything else (Redis, broker, consumers, relay, health, metrics) is wired the same way
for every service by shared/infra/service.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from fastapi import FastAPI

from services.ingest import problems
from services.ingest.guards import Gatekeeper, RateLimiter
from services.ingest.handlers import HttpDoor, StreamDoor, api_router
from services.ingest.intake import Clock
from services.ingest.settings import Settings
from services.ingest.store import IngestStore
from shared import names
from shared.infra.service import Reads, Running, Runtime, Service, ServiceApp, build, utcnow

log = logging.getLogger("galley.ingest")


def create_app(
    settings: Settings, *, now: Clock = utcnow, monotonic: Callable[[], float] = time.monotonic
) -> ServiceApp:
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

    async def start(runtime: Runtime) -> Running:
        if not gate.keys:
            log.warning("INGEST_API_KEYS is not set: only loopback clients may post")
        store = await IngestStore.open(settings.db_path)
        store.on_enqueued = runtime.notify
        stream_door = StreamDoor(lambda: store, runtime.dead_letters, now, settings.max_body_bytes)
        return Running(
            db=store.db,
            handlers={
                names.ARTICLE_SUBMITTED: stream_door.on_article,
                names.AUTHOR_SUBMITTED: stream_door.on_author,
            },
            state={"store": store},
            on_parked=stream_door.on_parked,
        )

    def http(runtime: Runtime) -> FastAPI:
        app = FastAPI(title="galley ingest")
        problems.install(app)
        app.include_router(api_router(door))
        return app

    return build(
        Service(
            name=names.INGEST,
            settings=settings,
            start=start,
            http=http,
            # the input stream holds the limits of the HTTP door
            reads={
                names.NEWSROOM_SUBMISSIONS: Reads(
                    max_entry_bytes=settings.max_body_bytes, strict_json=True
                )
            },
        )
    )
