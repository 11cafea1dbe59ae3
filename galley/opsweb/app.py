"""The ops page as a small FastAPI app (read-only: it never changes the pipeline)."""

from __future__ import annotations

import secrets
from html import escape
from typing import Annotated

import redis as sync_redis
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from galley.opsweb import data, render
from shared.infra import problems

REFRESH_S = 5


def _html(title: str, body: str, refresh: int | None) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return HTMLResponse(
        render.page(title, body, nonce, refresh),
        headers={
            "Content-Security-Policy": csp,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def create_app(config: data.Config) -> FastAPI:
    app = FastAPI(title="galley ops page", docs_url=None, redoc_url=None)
    client = sync_redis.Redis.from_url(config.redis_url, decode_responses=True, socket_timeout=3)

    @app.get("/", response_class=HTMLResponse)
    def overview() -> HTMLResponse:  # sync: runs in the thread pool, redis-py is blocking
        return _html("galley ops", render.overview_body(data.overview(client, config)), REFRESH_S)

    @app.get("/trace", response_class=HTMLResponse)
    def trace(uri: Annotated[str, Query(min_length=1, max_length=2000)]) -> HTMLResponse:
        hops, source = data.trace(client, config, uri)
        return _html(f"trace of {uri}", render.trace_body(uri, hops, source), None)

    @app.get("/api/overview")
    def overview_json() -> JSONResponse:
        view = data.overview(client, config)
        return JSONResponse(
            {
                "streams": {
                    n: {
                        "length": s.length,
                        "groups": [
                            {
                                "name": g.name,
                                "lag": g.lag,
                                "pending": g.pending,
                                "oldest_pending_age_s": g.oldest_pending_age_s,
                            }
                            for g in s.groups
                        ],
                    }
                    for n, s in view.streams.items()
                },
                "dead_letters": view.dead_letters,
                "health": view.health,
                "recent": [{**a, "time": a["time"].isoformat()} for a in view.recent],
            }
        )

    @app.get("/health/live", status_code=204)
    def live() -> None:
        return None

    @app.get("/health/ready", status_code=204)
    def ready() -> None:
        client.ping()  # unreachable Redis: 503 below
        return None

    problems.install(app)

    @app.exception_handler(sync_redis.ConnectionError)
    @app.exception_handler(sync_redis.TimeoutError)
    async def redis_down(request: Request, exc: Exception) -> Response:
        from galley.cli import redact, redis_unreachable

        sentence = str(redis_unreachable(config.redis_url, exc))
        if request.url.path.startswith(("/api/", "/health/")):
            return JSONResponse(
                {
                    "type": "about:blank",
                    "title": "Redis cannot be reached",
                    "status": 503,
                    "detail": sentence,
                },
                status_code=503,
                media_type="application/problem+json",
            )
        body = f"<section><h2>Redis cannot be reached</h2><p>{escape(sentence)}</p></section>"
        page = _html(f"galley ops: Redis at {redact(config.redis_url)} is down", body, REFRESH_S)
        page.status_code = 503
        return page

    return app
