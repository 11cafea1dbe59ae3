"""RFC 9457 problem details for every error ingest answers, FastAPI's own included."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.ingest.domain import Invalid, json_pointer

log = logging.getLogger("galley.ingest")

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/problems/"


class Problem(Exception):
    """An error answered as problem+json."""

    def __init__(self, status: int, kind: str, title: str, detail: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers = headers or {}
        self.extra = extra

    def response(self, instance: str | None = None) -> JSONResponse:
        body: dict[str, Any] = {"type": TYPE_BASE + self.kind, "title": self.title,
                                "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return JSONResponse(body, status_code=self.status, headers=self.headers,
                            media_type=MEDIA_TYPE)


def invalid_problem(exc: Invalid) -> Problem:
    errors = [e.as_dict() for e in exc.errors]
    return Problem(422, "invalid-document", "The document is not valid", str(exc),
                   errors=errors)


def install(app: FastAPI) -> None:
    """Make every error, FastAPI's own 404/405/422/500 included, problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return exc.response(request.url.path)

    @app.exception_handler(Invalid)
    async def _invalid(request: Request, exc: Invalid) -> JSONResponse:
        return invalid_problem(exc).response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"pointer": json_pointer(e["loc"]), "detail": e["msg"]} for e in exc.errors()]
        return Problem(422, "invalid-request", "The request is not valid",
                       "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors),
                       errors=errors).response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return Problem(exc.status_code, title.lower().replace(" ", "-"), title,
                       str(exc.detail), headers=dict(exc.headers or {})
                       ).response(request.url.path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return Problem(500, "internal-error", "Internal error",
                       "the request could not be completed; it has been logged"
                       ).response(request.url.path)

