"""Test data builders: ninjs fixtures -> the `Article` that ingest would emit."""

from __future__ import annotations

import html
import math
import re
from datetime import datetime
from typing import Any

from shared.envelope import Envelope
from shared.models import Article, AuthorProfile
from shared.names import ARTICLE_INGESTED, AUTHOR_UPDATED, INGEST, source_of


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].strip("-")


def article_from_ninjs(ninjs: dict[str, Any], **overrides: Any) -> Article:
    """A small stand-in for ingest's normalization (slug, plain text, counts)."""
    headline = next(h["value"] for h in ninjs["headlines"] if h.get("role") == "main")
    body_html = next((b["value"] for b in ninjs.get("bodies", [])), "")
    body_text = html.unescape(re.sub(r"<[^>]+>", " ", body_html))
    words = len(body_text.split())
    fields: dict[str, Any] = {
        "uri": ninjs["uri"],
        "version": int(ninjs.get("version", 1)),
        "slug": slugify(headline),
        "pubstatus": ninjs.get("pubstatus", "usable"),
        "language": ninjs.get("language"),
        "headline": headline,
        "byline": ninjs.get("by"),
        "author_names": [p["name"] for p in ninjs.get("people", []) if p.get("rel") == "author"],
        "subjects": [s["name"] for s in ninjs.get("subjects", [])],
        "body_html": body_html,
        "body_text": " ".join(body_text.split()),
        "word_count": words,
        "reading_minutes": max(1, math.ceil(words / 230)),
        "firstcreated": ninjs.get("firstcreated"),
        "versioncreated": ninjs.get("versioncreated"),
        "pinned_related": [
            a["uri"]
            for a in ninjs.get("associations", [])
            if a.get("rel") == "related" or a.get("name") == "related"
        ],
    }
    fields.update(overrides)
    return Article.model_validate(fields)


def article(uri: str, headline: str, body: str = "", **overrides: Any) -> Article:
    fields: dict[str, Any] = {
        "uri": uri,
        "version": 1,
        "slug": slugify(headline) or "x",
        "headline": headline,
        "body_text": body,
        "word_count": len(body.split()),
    }
    fields.update(overrides)
    return Article.model_validate(fields)


def ingested(article: Article, event_id: str | None = None) -> Envelope[Article]:
    extra = {"id": event_id} if event_id else {}
    return Envelope[Article](
        source=source_of(INGEST), type=ARTICLE_INGESTED, subject=article.uri, data=article, **extra
    )


def author_updated(
    profile: AuthorProfile | dict[str, Any], event_id: str | None = None
) -> Envelope[AuthorProfile]:
    data = profile if isinstance(profile, AuthorProfile) else AuthorProfile.model_validate(profile)
    extra = {"id": event_id} if event_id else {}
    return Envelope[AuthorProfile](
        source=source_of(INGEST), type=AUTHOR_UPDATED, subject=data.slug, data=data, **extra
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
