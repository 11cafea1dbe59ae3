"""Ingest's problem details: the shared ones, plus the domain's `Invalid` as a 422."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.ingest.domain import Invalid
from shared.infra import problems
from shared.infra.problems import MEDIA_TYPE, Problem

__all__ = ["MEDIA_TYPE", "Problem", "install", "invalid_problem"]


TITLES = {
    "invalid-document": "The document is not valid",
    "unsupported-item-type": "Unsupported item type",
}


def invalid_problem(exc: Invalid) -> Problem:
    errors = [e.as_dict() for e in exc.errors]
    return Problem(
        422,
        exc.problem,
        TITLES.get(exc.problem, "The document is not valid"),
        str(exc),
        errors=errors,
    )


def install(app: FastAPI) -> None:
    """Make every error, FastAPI's own 404/405/422/500 included, problem+json."""
    problems.install(app)

    @app.exception_handler(Invalid)
    async def _invalid(request: Request, exc: Invalid) -> JSONResponse:
        return invalid_problem(exc).response(request.url.path)
