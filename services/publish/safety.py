"""What publish shows is safe whatever its input stream carried.

Ingest sanitizes every story, but anyone who can write to `articles.enriched` skips
ingest. So publish reads each article as untrusted: the body is sanitized again with
ingest's own allowlist (shared/infra/html.py), every text loses the characters XML and
HTML cannot carry, and every URL the page, feeds and API use must be http(s) or a path
on the site. A picture's or file's http: address is upgraded to https: (a browser would
block or upgrade it on an https page anyway, and the site's CSP allows https: only).
"""

from __future__ import annotations

import re
from typing import Any

from shared.infra.html import safe_url, sanitize_html, without_controls
from shared.models import EnrichedArticle

_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: str) -> str:
    return _SURROGATE.sub("\ufffd", without_controls(value))


def _clean(value: Any) -> Any:
    """Every string in a JSON-like value without controls or lone surrogates."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_text(k) if isinstance(k, str) else k: _clean(v) for k, v in value.items()}
    return value


def web_url(value: str | None, *, file: bool = False) -> str | None:
    """`value` when a page may link to it, else None; a file's http: becomes https:."""
    if not value or not safe_url(value) or value.lower().startswith("mailto:"):
        return None
    if file and value[:7].lower() == "http://":
        return "https://" + value[7:]
    return value


def safe_article(article: EnrichedArticle) -> EnrichedArticle:
    """The article as publish may show it (module docstring)."""
    data = _clean(article.model_dump(mode="json"))
    data["body_html"] = sanitize_html(data.get("body_html") or "")
    image = data.get("lead_image")
    if image is not None:
        image["href"] = web_url(image.get("href"), file=True)
        if image["href"] is None:
            data["lead_image"] = None
    media = data.get("media")
    if media is not None:
        kept = []
        for rendition in media.get("renditions") or []:
            rendition["href"] = web_url(rendition.get("href"), file=True)
            if rendition["href"] is not None:
                kept.append(rendition)
        media["renditions"] = kept
        media["poster"] = web_url(media.get("poster"), file=True)
        if not kept:
            data["media"] = None
    for card in data.get("authors") or []:
        card["avatar_url"] = web_url(card.get("avatar_url"), file=True)
        card["url"] = web_url(card.get("url"))
    data["related"] = [link for link in data.get("related") or [] if web_url(link.get("url"))]
    return EnrichedArticle.model_validate(data)
