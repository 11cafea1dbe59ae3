"""HTTP pieces every service shares: health, readiness and metrics routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


def ops_router(
    broker_ready: Callable[[], Any],
    registry: CollectorRegistry | None = None,
    probes: Sequence[Callable[[], Awaitable[None]]] = (),
    alive: Callable[[], bool] = lambda: True,
) -> APIRouter:
    """Health, readiness and /metrics; `probes` refresh gauges just before a scrape.
    `/health/live` answers 503 once `alive()` is false (a service whose parts are closed
    while its HTTP server still runs: restart it)."""
    router = APIRouter(tags=["ops"])

    @router.get("/health/live", status_code=204)
    async def live() -> Response:
        return Response(status_code=204 if alive() else 503)

    @router.get("/health/ready")
    async def ready() -> Response:
        ok = await broker_ready()
        return Response(status_code=204 if ok else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        from prometheus_client import REGISTRY

        for probe in probes:
            await probe()
        return Response(generate_latest(registry or REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


async def broker_is_ready(broker: Any) -> bool:
    try:
        pinged = await broker.ping(timeout=1)
    except Exception:
        return False
    return bool(pinged) and all(getattr(s, "running", True) for s in broker.subscribers)
