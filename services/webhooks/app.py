"""Webhooks as a service: its store, the dispatcher, the subscriptions API.

Everything else (Redis, broker, consumers, health, metrics) is wired the same way for
every service by shared/infra/service.py. Webhooks emits no events: it has no outbox.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

import httpx
from fastapi import FastAPI

from services.webhooks import ssrf
from services.webhooks.dispatcher import Dispatcher, HttpSender
from services.webhooks.handlers import make_on_published, make_router
from services.webhooks.settings import Settings
from services.webhooks.store import MIGRATIONS, Store
from shared import names
from shared.infra import problems
from shared.infra.db import Database
from shared.infra.service import Running, Runtime, Service, ServiceApp, build, utcnow


def create_app(
    settings: Settings,
    *,
    now: Callable[[], datetime] = utcnow,
    resolver: ssrf.Resolver = ssrf.system_resolver,
    transport: httpx.AsyncBaseTransport | None = None,
    rand: Callable[[], float] = random.random,
) -> ServiceApp:
    async def start(runtime: Runtime) -> Running:
        db = await Database.open(settings.db_path, migrations=MIGRATIONS)
        store = Store(db)
        client = httpx.AsyncClient(
            follow_redirects=False, timeout=settings.timeout, transport=transport, trust_env=False
        )
        dispatcher = Dispatcher(
            store, HttpSender(client), settings, resolver=resolver, now=now, rand=rand
        )
        on_published = make_on_published(store, dispatcher.notify, now)
        return Running(
            db=db,
            handlers={t: on_published for t in names.PUBLISHED_EVENT_TYPES},
            state={"store": store, "dispatcher": dispatcher},
            loops=[("dispatcher", dispatcher.run)],
            on_commit=dispatcher.notify,
            close=[client.aclose],
        )

    def http(runtime: Runtime) -> FastAPI:
        app = FastAPI(title="galley webhooks")
        app.include_router(
            make_router(
                now=now,
                resolver=resolver,
                allow_loopback=settings.allow_loopback,
                admin_key=settings.admin_key,
            )
        )
        problems.install(app)
        return app

    return build(
        Service(name=names.WEBHOOKS, settings=settings, start=start, http=http, outbox=False)
    )
