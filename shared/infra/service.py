"""One way to build a service: settings -> Redis, broker, consumers, outbox relay, background
loops, health and metrics -> a FastStream application carrying the service's HTTP app.

The result (`ServiceApp`) is FastStream's `AsgiFastStream`: `faststream run
services.ingest:app` serves it, as do `uvicorn services.ingest:app` and
`python -m services.ingest`; FastStream starts and stops the broker, and writes the
service's AsyncAPI document (`faststream docs gen services.ingest:app`).

A service says only what is its own (`Service`): its name (also its consumer group and its
CloudEvents source), its settings, the HTTP app with its routes, the options of the streams
it reads, and `start`, which opens its store and returns what runs (`Running`): the parts
its routes use, a handler for every event type its group reads, its background loops and
what to close. Everything else is the same for every service and happens here:

* which streams a service reads, and the payload model of each event type, come from the
  event catalogue (shared/events.py); the consumers are registered when the app is built,
  and `start` must hand over a handler for every type the catalogue says the group reads;
* every handler runs traced (a child span of the event's trace) and counted
  (`galley_events_handled_total`);
* claim idle time and deliveries before dead-lettering come from the settings
  (`<PREFIX>_CLAIM_IDLE_MS`, else `GALLEY_CLAIM_IDLE_MS`; the same for MAX_DELIVERIES);
* a service with an outbox gets its relay, woken after each committed batch
  (`Runtime.committed`) and by its own writes (`Runtime.notify`);
* each read stream's group is created at id 0 before the broker starts, vanished groups are
  recreated, read streams trimmed to what every group acknowledged, retention kept;
* `/health/live`, `/health/ready`, `/metrics` (with the dead-letter gauge), and W3C
  trace context on every request.

Routes reach the running parts through `request.app.state` (`Running.state`, set when the
service starts); handlers are plain functions `start` returns, bound to those parts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI
from faststream.asgi import AsgiFastStream
from faststream.redis import RedisBroker
from faststream.specification import AsyncAPI

from shared import names
from shared.envelope import Envelope
from shared.events import on_stream, read_by, streams
from shared.infra import observability as obs
from shared.infra.consumer import (
    DeadLetter,
    RedisDeadLetters,
    StreamConsumer,
    consumer_name,
    ensure_group,
    keep_consuming,
    new_broker,
    routes_for,
)
from shared.infra.db import Database
from shared.infra.http import broker_is_ready, ops_router
from shared.infra.outbox import OutboxRelay, RedisStreamWriter
from shared.infra.retention import keep_tidy
from shared.infra.settings import ServiceSettings
from shared.infra.tasks import cancel_and_wait

log = logging.getLogger("galley.service")


def utcnow() -> datetime:
    """The services' clock (tests pass their own as `now`)."""
    return datetime.now(UTC)


Handler = Callable[[Envelope[Any]], Awaitable[None]]
Parked = Callable[[Mapping[str, str], str, str | None], Awaitable[None]]


@dataclass(frozen=True)
class Reads:
    """How a service reads one stream (fixed when the app is built)."""

    max_records: int = 100  # entries per read: one batch, one commit
    max_entry_bytes: int | None = None  # a larger entry's `data` is parked at once
    strict_json: bool = False  # refuse a property twice in one object (outside input)


@dataclass
class Running:
    """What a service's `start` returns."""

    db: Database  # the store's database: consumers run each read as one batch on it
    handlers: Mapping[str, Handler]  # event type -> handler, for each type the group reads
    state: Mapping[str, Any] = field(default_factory=dict)  # app.state.<name> for routes
    loops: Sequence[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = ()
    on_commit: Callable[[], None] | None = None  # after each consumer batch (and the relay)
    on_parked: Parked | None = None  # after an entry was dead-lettered
    close: Sequence[Callable[[], Awaitable[None]]] = ()  # after the loops, before the db


class Runtime:
    """The service while it runs: its Redis client, relay and running parts."""

    def __init__(self, name: str, settings: ServiceSettings) -> None:
        self.name = name
        self.settings = settings
        self.redis: aioredis.Redis | None = None
        self.relay: OutboxRelay | None = None
        self.running: Running | None = None
        self.closed = False  # its parts are closed (stopped, or its start failed)

    def notify(self) -> None:
        """New outbox rows were committed: wake the relay."""
        if self.relay is not None:
            self.relay.notify()

    def committed(self) -> None:
        """A consumer batch committed: wake the relay and whatever the service waits on."""
        self.notify()
        if self.running is not None and self.running.on_commit is not None:
            self.running.on_commit()

    def db(self) -> Database:
        if self.running is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.running.db

    def dead_letters(self) -> RedisDeadLetters:
        if self.redis is None:
            raise RuntimeError(f"{self.name} is not running")
        return RedisDeadLetters(self.redis, names.dead_letter_stream(self.name))

    async def parked(self, fields: Mapping[str, str], reason: str, entry_id: str | None) -> None:
        if self.running is not None and self.running.on_parked is not None:
            await self.running.on_parked(fields, reason, entry_id)


@dataclass
class Service:
    """What one service is made of; `build` wires it."""

    name: str
    settings: ServiceSettings
    start: Callable[[Runtime], Awaitable[Running]]
    http: Callable[[Runtime], FastAPI]  # the FastAPI app with the service's routes
    reads: Mapping[str, Reads] = field(default_factory=dict)  # stream -> options
    outbox: bool = True  # the service emits events through an outbox (and runs a relay)
    on_appended: Callable[[list[tuple[str, dict[str, str]]]], None] | None = None


class ServiceApp(AsgiFastStream):
    """A service as FastStream runs it: the broker's application, whose lifespan starts the
    service, carrying the service's FastAPI app for every HTTP request."""

    def __init__(
        self,
        broker: RedisBroker,
        http: FastAPI,
        lifespan: Callable[[], AbstractAsyncContextManager[None]],
        *,
        title: str,
        host: str,
        port: int,
        after_startup: Sequence[Callable[[], Awaitable[None]]] = (),
        on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        super().__init__(
            broker,
            lifespan=lifespan,
            after_startup=after_startup,
            on_shutdown=on_shutdown,
            specification=AsyncAPI(
                title=title,
                version=package_version(),
                description="Its Redis streams: what it reads, what it writes, where it parks"
                " what it cannot handle. Each entry is a CloudEvents 1.0 event: the attributes"
                " are entry fields and `data` is the JSON text of the payload.",
            ),
        )
        self.http = http
        self._listen: dict[str, Any] = {"host": host, "port": port}

    @property
    def state(self) -> Any:
        """The HTTP app's state: the parts routes use (`Running.state`)."""
        return self.http.state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await super().__call__(scope, receive, send)
        else:
            await self.http(scope, receive, send)

    async def run(
        self, log_level: int = logging.INFO, run_extra_options: dict[str, Any] | None = None
    ) -> None:
        """`faststream run`: listen where the settings say unless --host/--port say else."""
        await super().run(log_level, {**self._listen, **(run_extra_options or {})})


def package_version() -> str:
    try:
        return metadata.version("galley")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def build(service: Service) -> ServiceApp:
    """The service's app; its lifespan starts the service, then FastStream the broker."""
    name, settings = service.name, service.settings
    obs.configure_logging(name)
    runtime = Runtime(name, settings)
    broker = new_broker(settings.redis_url)
    obs.instrument_broker(broker, name)
    consumers = [
        StreamConsumer(
            broker=broker,
            stream=stream,
            group=name,
            consumer=consumer_name(name),
            routes={},  # filled from Running.handlers at start
            dead_letters=runtime.dead_letters,
            max_records=reads.max_records,
            claim_idle_ms=settings.claim_idle_ms,
            max_deliveries=settings.max_deliveries,
            on_parked=runtime.parked,
            db=runtime.db,
            after_commit=runtime.committed,
            max_entry_bytes=reads.max_entry_bytes,
            strict_json=reads.strict_json,
        )
        for stream, reads in ((s, service.reads.get(s, Reads())) for s in read_by(name))
    ]
    for consumer in consumers:
        consumer.register()
    _document_writes(broker, name)

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        redis = aioredis.from_url(settings.redis_url)
        runtime.redis = redis
        try:
            running = await service.start(runtime)
        except BaseException:
            await redis.aclose()
            raise
        tasks: list[asyncio.Task[None]] = []
        try:
            runtime.running = running
            _check_handlers(name, running.handlers)
            for consumer in consumers:
                consumer.routes = _traced_routes(name, consumer.stream, running.handlers)
            if service.outbox:
                runtime.relay = OutboxRelay(
                    running.db,
                    RedisStreamWriter(redis, on_appended=service.on_appended),
                    max_backoff=settings.relay_max_backoff,
                    repair_window=settings.retention.outbox_repair_window_s,
                )
            for key, value in running.state.items():
                setattr(http.state, key, value)
            http.state.relay = runtime.relay
            for consumer in consumers:
                await ensure_group(redis, consumer.stream, name)
            loops: list[tuple[str, Coroutine[Any, Any, None]]] = []
            if runtime.relay is not None:
                loops.append(("outbox-relay", runtime.relay.run()))
            loops += [(label, loop()) for label, loop in running.loops]
            loops.append(("retention", keep_tidy(name, running.db, redis, settings.retention)))
            tasks = [asyncio.create_task(c, name=f"{name}-{label}") for label, c in loops]
            yield  # FastStream starts the broker now, and stops it before we go on
        finally:
            runtime.closed = True
            await cancel_and_wait(healing.pop("task", None))
            await cancel_and_wait(*reversed(tasks))
            for close in running.close:
                await close()
            await redis.aclose()
            await running.db.close()

    # The heal loop restarts readers whose group vanished: it runs only while the broker
    # does (from after its start to before its stop), or it would start readers twice or
    # bring them back while FastStream stops them.
    healing: dict[str, asyncio.Task[None]] = {}

    async def start_healing() -> None:
        assert runtime.redis is not None
        healing["task"] = asyncio.create_task(
            keep_consuming(
                consumers,
                runtime.redis,
                # a stream clients outside galley read is trimmed by age only
                trim=tuple(c.stream for c in consumers if c.stream not in PUBLIC),
            ),
            name=f"{name}-heal",
        )

    async def stop_healing() -> None:
        await cancel_and_wait(healing.pop("task", None))

    http = service.http(runtime)
    http.state.runtime = runtime
    http.state.broker = broker
    http.state.relay = None
    http.middleware("http")(obs.http_trace_middleware())
    dlq = obs.dead_letter_probe(lambda: runtime.redis, names.dead_letter_stream(name))
    http.include_router(
        ops_router(lambda: broker_is_ready(broker), probes=[dlq], alive=lambda: not runtime.closed)
    )
    return ServiceApp(
        broker,
        http,
        lifespan,
        after_startup=[start_healing],
        on_shutdown=[stop_healing],
        title=f"galley {name}",
        host=settings.host,
        port=settings.port,
    )


def _document_writes(broker: RedisBroker, name: str) -> None:
    """Declare what the service writes (its outbox's streams, its dead letters) as FastStream
    publishers: nothing is sent through them (the outbox relay appends), they put those
    streams in the service's AsyncAPI document."""
    for stream in streams():
        written = [e for e in on_stream(stream) if e.producer == name]
        if not written:
            continue
        models = list(dict.fromkeys(event.model for event in written))
        broker.publisher(
            stream,
            title=f"{stream}:{name}",
            description=f"{name} appends "
            + "; ".join(f"{e.name}: {e.summary}" for e in written)
            + " An entry is a CloudEvents 1.0 event, its attributes as fields and `data`"
            " the JSON text of the payload.",
            schema=Envelope[models[0]] if len(models) == 1 else None,  # type: ignore[valid-type]
        )
    dlq = names.dead_letter_stream(name)
    broker.publisher(
        dlq,
        title=f"{dlq}:{name}",
        description=f"Entries {name} could never handle, parked with the reason.",
        schema=DeadLetter,
    )


PUBLIC = (names.ARTICLES_PUBLISHED,)  # read by subscribers outside galley too


def _check_handlers(group: str, handlers: Mapping[str, Handler]) -> None:
    read = {event.name for events in read_by(group).values() for event in events}
    if extra := set(handlers) - read:
        raise ValueError(
            f"the event catalogue does not say that {group} reads {', '.join(sorted(extra))}"
        )


def _traced_routes(group: str, stream: str, handlers: Mapping[str, Handler]) -> dict[str, Any]:
    """The consumer's routes on `stream` (models from the catalogue), traced and counted."""
    from shared.events import stream_of

    own = {t: h for t, h in handlers.items() if stream_of(t) == stream}
    return obs.route_map(routes_for(group, stream, own))
