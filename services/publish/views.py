"""HTML rendering: Jinja2 with autoescape; only the sanitized body is marked safe.

Every template gets `site`, `lang` (the page's language, one of i18n's), `t` (that
language's page strings) and `static(name)`, the fingerprinted path of a static file.
Dates and reading times are filters that take the language: `{{ moment | date(lang) }}`,
`{{ minutes | reading_time(lang) }}`. Nothing in a page changes from one request to the
next but what the store holds (the ETag is a hash of the page).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.publish import i18n
from services.publish.formats import (
    Site,
    credit_key,
    image_of,
    is_picture,
    iso,
    picture_rendition,
    sources,
    summary,
    thumbnail_of,
    updated_at,
    was_updated,
)
from services.publish.web import StaticBundle
from shared.slugs import slugify

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def _date(moment: datetime | None, lang: str | None = None) -> str:
    """Date and time in UTC, as the language writes them."""
    return i18n.format_datetime(moment, lang) if moment is not None else ""


def _day(moment: datetime | None, lang: str | None = None) -> str:
    return i18n.format_date(moment, lang) if moment is not None else ""


def initials(name: str) -> str:
    """What an avatar shows when its picture does not load: `Martin Fornusek` -> `MF`."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return ""
    picked = words[0][:1] + (words[-1][:1] if len(words) > 1 else "")
    return picked.upper()


def make_env(site: Site | None = None, static: StaticBundle | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        date=_date,
        day=_day,
        iso=iso,
        slugify=slugify,
        reading_time=i18n.reading_time,
        labelled=lambda value, key, lang: i18n.labelled(key, value, lang),
        summary=summary,
        updated_at=updated_at,
        image_of=image_of,
        thumbnail=thumbnail_of,
        picture_rendition=picture_rendition,
        sources=sources,
        credit_key=credit_key,
        absolute=site.absolute if site is not None else (lambda href: href),
        initials=initials,
    )
    env.tests.update(updated=was_updated, picture=is_picture)
    # the site's language unless a render says otherwise (Views.render always does)
    code = i18n.language(site.language if site is not None else None)
    bundle = static or StaticBundle(STATIC)
    env.globals.update(lang=code, t=i18n.texts(code), static=bundle.url)
    return env


class Views:
    def __init__(self, site: Site, static: StaticBundle | None = None) -> None:
        self.site = site
        self.static = static or StaticBundle(STATIC)
        self.env = make_env(site, self.static)

    def render(
        self,
        request: Request,
        template: str,
        status_code: int = 200,
        *,
        lang: str | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """`lang`: the language of the page text (the article's), else the site's."""
        code = i18n.language(lang or self.site.language)
        html = self.env.get_template(template).render(
            site=self.site,
            lang=code,
            t=i18n.texts(code),
            **context,
        )
        return HTMLResponse(html, status_code=status_code)
