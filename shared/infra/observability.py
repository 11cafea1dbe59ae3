"""Observability every service shares: trace context, JSON logs, pipeline metrics.

Trace context is W3C `traceparent` (https://www.w3.org/TR/trace-context/), carried
as the CloudEvents distributed-tracing extension on every envelope. The current
value lives in a context variable: an HTTP request sets it from its `traceparent`
header (or starts a new trace), a stream handler sets it from the event it handles
(as a child span), and every `Envelope` built meanwhile picks it up by default.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from shared.tracing import (  # re-exported: the services reach trace context through obs
    child_of,
    context,
    current_event_id,
    current_traceparent,
    current_uri,
    new_traceparent,
    trace_id_of,
    valid_traceparent,
)

__all__ = [
    "child_of",
    "context",
    "current_traceparent",
    "new_traceparent",
    "trace_id_of",
    "valid_traceparent",
]

events_log = logging.getLogger("galley.events")


Handler = Callable[[Any], Awaitable[None]]


def traced(handler: Handler) -> Handler:
    """Wrap a stream handler: it runs as a child span of the event's trace, and its log
    records carry the event id and the article uri (the event's subject)."""

    async def run(event: Any) -> None:
        with context(
            traceparent=child_of(getattr(event, "traceparent", None)),
            event_id=getattr(event, "id", None),
            uri=getattr(event, "subject", None),
        ):
            await handler(event)
            events_log.info("handled %s", getattr(event, "type", "event"))

    run.__name__ = getattr(handler, "__name__", "handler")
    return run


def http_trace_middleware() -> Callable[..., Awaitable[Any]]:
    """FastAPI `http` middleware: each request runs in the caller's trace (or a new one);
    the response names the span in its own `traceparent` header."""

    async def middleware(request: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        span = child_of(request.headers.get("traceparent"))
        with context(traceparent=span):
            response = await call_next(request)
        response.headers["traceparent"] = span
        return response

    return middleware


# --- JSON logs -----------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the article uri, event id and trace id when known."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        uri = getattr(record, "uri", None) or current_uri()
        event_id = getattr(record, "event_id", None) or current_event_id()
        trace_id = trace_id_of(current_traceparent())
        for key, value in (("uri", uri), ("event_id", event_id), ("trace_id", trace_id)):
            if value:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(service: str, *, stream: Any = None, level: int = logging.INFO) -> None:
    """JSON lines on stderr for galley's own loggers (GALLEY_LOG_FORMAT=text opts out).

    Idempotent: calling it again (one app per test) does not add a second handler.
    """
    if os.environ.get("GALLEY_LOG_FORMAT", "json") != "json":
        return
    logger = logging.getLogger("galley")
    for existing in logger.handlers:
        if getattr(existing, "galley_json", False):
            existing.setFormatter(JsonFormatter(service))
            return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.galley_json = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter(service))
    logger.addHandler(handler)
    logger.setLevel(min(level, logger.level or level))


# --- metrics -------------------------------------------------------------------------------

END_TO_END_SECONDS = Histogram(
    "galley_end_to_end_latency_seconds",
    "From ingest accepting an article version to publish appending its event to "
    "articles.published (versions with no embargo or schedule, first enrichment only)",
    ["type"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
DEAD_LETTERS = Gauge("galley_dead_letters", "Entries on a dead-letter stream", ["stream"])
EVENTS_HANDLED = Counter("galley_events_handled_total", "Stream events handled, by type", ["type"])


def instrument_broker(broker: Any, service: str) -> None:
    """FastStream's Prometheus middleware on a broker (call before subscribers start)."""
    from faststream.redis.prometheus import RedisPrometheusMiddleware
    from prometheus_client import REGISTRY

    broker.add_middleware(RedisPrometheusMiddleware(registry=REGISTRY, app_name=service))


def dead_letter_probe(redis: Callable[[], Any], stream: str) -> Callable[[], Awaitable[None]]:
    """A /metrics hook that sets galley_dead_letters for one stream from XLEN."""

    async def probe() -> None:
        client = redis()
        if client is None:
            return
        with contextlib.suppress(Exception):  # Redis down: keep the last value
            DEAD_LETTERS.labels(stream).set(int(await client.xlen(stream)))

    return probe


def observe_latency(fields: dict[str, str], moment: datetime) -> float | None:
    try:
        data = json.loads(fields.get("data", "{}"))
        accepted = data.get("accepted_at")
        if (
            not accepted
            or data.get("enrichment_revision")
            or data.get("embargoed")
            or data.get("publish_at")
        ):
            return None
        seconds = (moment - datetime.fromisoformat(accepted)).total_seconds()
    except (ValueError, TypeError, AttributeError):
        return None
    if seconds < 0:
        return None
    END_TO_END_SECONDS.labels(fields.get("type", "")).observe(seconds)
    return seconds


def handled(handler: Handler) -> Handler:
    """Count handled events by type (after the handler returns)."""

    async def run(event: Any) -> None:
        await handler(event)
        EVENTS_HANDLED.labels(getattr(event, "type", "")).inc()

    return run


def route_map(routes: dict[str, Any]) -> dict[str, Any]:
    """Wrap every handler of a StreamConsumer routes map with `traced` (same Route type)."""
    import dataclasses

    wrapped: dict[int, Any] = {}
    out = {}
    for event_type, route in routes.items():
        if id(route) not in wrapped:
            wrapped[id(route)] = dataclasses.replace(route, handle=traced(handled(route.handle)))
        out[event_type] = wrapped[id(route)]
    return out
