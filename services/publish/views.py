"""HTML rendering: Jinja2 with autoescape; only the sanitized body is marked safe."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .domain import reading_time, slugify
from .formats import Site, iso, summary

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def _date(moment: datetime | None) -> str:
    if moment is None:
        return ""
    utc = moment.astimezone(UTC)
    return f"{utc:%b} {utc.day}, {utc:%Y} · {utc:%H:%M} UTC"


def make_env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(("html",), default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(date=_date, iso=iso, slugify=slugify, reading_time=reading_time,
                       summary=summary)
    return env


class Views:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.env = make_env()

    def render(self, request: Request, template: str, status_code: int = 200,
               **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            site=self.site, nonce=getattr(request.state, "nonce", ""), **context)
        return HTMLResponse(html, status_code=status_code)
