"""RFC 9457 problem details: the one error format every galley HTTP API answers with.

`install(app)` makes FastAPI's own errors (404, 405, request validation, an
unexpected exception) problem+json too, so a client never sees HTML or a stack
trace from an API route.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.envelope import json_pointer

log = logging.getLogger("galley.http")

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/problems/"


class Problem(Exception):
    """An error answered as problem+json; `kind` names its type, e.g. "version-conflict"."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers = headers or {}
        self.extra = extra

    def response(self, instance: str | None = None) -> JSONResponse:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        try:
            return JSONResponse(
                body, status_code=self.status, headers=self.headers, media_type=MEDIA_TYPE
            )
        except UnicodeEncodeError:  # a lone surrogate quoted from the request: show it escaped
            return JSONResponse(
                _encodable(body),
                status_code=self.status,
                headers=self.headers,
                media_type=MEDIA_TYPE,
            )


def _encodable(value: Any) -> Any:
    """`value` with every string made encodable as UTF-8 (lone surrogates as \\udXXX)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def request_pointer(loc: Iterable[str | int]) -> str:
    """A pointer into the request body (FastAPI prefixes body errors with "body")."""
    parts = list(loc)
    return json_pointer(parts[1:] if parts[:1] == ["body"] else parts)


def invalid_request(exc: RequestValidationError) -> Problem:
    errors = [{"pointer": request_pointer(e["loc"]), "detail": e["msg"]} for e in exc.errors()]
    return Problem(
        422,
        "invalid-request",
        "The request is not valid",
        "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors),
        errors=errors,
    )


def http_problem(exc: StarletteHTTPException) -> Problem:
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Request failed")
    return Problem(
        exc.status_code,
        title.lower().replace(" ", "-"),
        title,
        str(exc.detail),
        headers=dict(exc.headers or {}),
    )


def install(app: FastAPI) -> None:
    """Answer every error of `app` as problem+json, FastAPI's own included."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return exc.response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_request(exc).response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_problem(exc).response(request.url.path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return Problem(
            500,
            "internal-error",
            "Internal error",
            "the request could not be completed; it has been logged",
        ).response(request.url.path)
