"""Pure ingest rules: validate, normalize, sanitize, slug, lifecycle, version decision.

No IO here; anything that depends on time takes `now` as an argument.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import nh3
from anyascii import anyascii
from pydantic import ValidationError

from services.ingest.ninjs import Association, NinjsIn, Text
from shared.models import Article, AuthorProfile, Image, Lifecycle

WORDS_PER_MINUTE = 230
SLUG_MAX = 100
MAX_DEPTH = 64  # the deepest a document may nest, whichever door it came through
CORRECTION_ROLE = "correction"


# --- errors ----------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    pointer: str  # RFC 6901 JSON pointer into the submitted document
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.detail}


class Invalid(ValueError):
    """The submitted document is wrong; `errors` says where and why."""

    def __init__(self, errors: Sequence[FieldError], title: str = "invalid document") -> None:
        super().__init__("; ".join(f"{e.pointer or '/'}: {e.detail}" for e in errors))
        self.errors = list(errors)
        self.title = title


def json_pointer(loc: Iterable[str | int]) -> str:
    parts = (str(p).replace("~", "~0").replace("/", "~1") for p in loc)
    return "".join(f"/{p}" for p in parts)


def _field_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors(include_url=False):
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "timezone_aware":
            msg = "must carry a timezone offset, e.g. 2025-02-04T10:12:00+02:00"
        errors.append(FieldError(json_pointer(err["loc"]), msg))
    return errors


# --- parsing -----------------------------------------------------------------


def parse_article(raw: Any) -> NinjsIn:
    """Validate a ninjs document; raises Invalid with a pointer for each problem."""
    if not isinstance(raw, dict):
        raise Invalid([FieldError("", "a ninjs article must be a JSON object")])
    if nesting_depth(raw, MAX_DEPTH) > MAX_DEPTH:
        raise Invalid([FieldError("", f"the document nests deeper than {MAX_DEPTH} levels")])
    try:
        doc = NinjsIn.model_validate(raw)
    except ValidationError as exc:
        errors = _field_errors(exc)
        if not any(e.pointer.startswith(("/headline", "/headlines")) for e in errors):
            errors += _headline_missing(raw)
        raise Invalid(errors) from None
    if not headline_of(doc):
        raise Invalid(_headline_missing({}))
    return doc


def _headline_missing(raw: dict[str, Any]) -> list[FieldError]:
    headlines = raw.get("headlines")
    has = isinstance(raw.get("headline"), str) and raw["headline"].strip()
    has = has or (isinstance(headlines, list) and any(
        isinstance(h, dict) and isinstance(h.get("value"), str) and h["value"].strip()
        for h in headlines))
    return [] if has else [FieldError("/headlines", "a headline is required (headlines[].value)")]


def nesting_depth(value: Any, limit: int) -> int:
    """How deep a parsed JSON value nests (iteratively; stops just past `limit`)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_author(raw: Any) -> AuthorProfile:
    """Validate an author profile; a missing slug is derived from the name."""
    if not isinstance(raw, dict):
        raise Invalid([FieldError("", "an author profile must be a JSON object")])
    data = dict(raw)
    if not data.get("slug") and isinstance(data.get("name"), str):
        data["slug"] = slugify(data["name"], fallback="author")
    try:
        return AuthorProfile.model_validate(data)
    except ValidationError as exc:
        raise Invalid(_field_errors(exc)) from None


def content_hash(model: Any) -> str:
    """A stable digest of a validated document: same content, same hash."""
    dumped = model.model_dump(mode="json", by_alias=True)
    canonical = json.dumps(dumped, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- picking things out of ninjs ----------------------------------------------


def _by_role(items: Sequence[Text], roles: Iterable[str]) -> Text | None:
    wanted = set(roles)
    return next((t for t in items if (t.role or "").lower() in wanted and t.value.strip()), None)


def headline_of(doc: NinjsIn) -> str:
    found = _by_role(doc.headlines, ["main"]) or next(
        (h for h in doc.headlines if h.value.strip()), None
    )
    text = found.value if found else (doc.headline or "")
    return " ".join(text.split())


def subheadline_of(doc: NinjsIn) -> str | None:
    found = _by_role(doc.headlines, ["sub", "subheadline", "subtitle"])
    return " ".join(found.value.split()) if found else None


def correction_of(doc: NinjsIn) -> str | None:
    """A correction is a `descriptions` entry with role "correction"; its value is shown."""
    found = _by_role(doc.descriptions, [CORRECTION_ROLE])
    return html_to_text(sanitize_html(found.value)) if found else None


def author_names_of(doc: NinjsIn) -> list[str]:
    names = [p.name.strip() for p in doc.people if p.name and (p.rel or "").lower() == "author"]
    if names:
        return names
    if not doc.by:
        return []
    by = re.sub(r"^\s*by\s+", "", doc.by, flags=re.IGNORECASE)
    return [n.strip() for n in re.split(r",|\s+and\s+|&", by) if n.strip()]


def _names(items: Iterable[Any]) -> list[str]:
    return [n for n in ((i.name or i.literal or "").strip() for i in items) if n]


def _is_web_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme.lower() in {"http", "https"}


def lead_image_of(doc: NinjsIn) -> Image | None:
    pictures = [a for a in doc.associations if (a.type or "picture") == "picture"]
    chosen = next((a for a in pictures if a.name == "featuremedia"), None)
    chosen = chosen or next((a for a in pictures if a.renditions), None)
    return _image(chosen) if chosen else None


def _image(assoc: Association) -> Image | None:
    renditions = [r for r in assoc.renditions if _is_web_url(r.href)]
    best = next((r for r in renditions if r.name in ("original", "baseImage")), None)
    best = best or (renditions[0] if renditions else None)
    if best is None or best.href is None:
        return None
    caption = _by_role(assoc.descriptions, ["caption"]) or next(iter(assoc.descriptions), None)
    alt = _by_role(assoc.descriptions, ["alt", "alttext", "alt-text"])
    return Image(
        href=best.href,
        caption=html_to_text(sanitize_html(caption.value)) if caption else None,
        credit=assoc.by,
        alt=html_to_text(sanitize_html(alt.value)) if alt else None,
        width=best.width,
        height=best.height,
        contenttype=best.contenttype,
    )


def pinned_related_of(doc: NinjsIn) -> list[str]:
    """Editor-pinned stories: associations whose name starts with "related"."""
    return [a.uri for a in doc.associations if a.uri and (a.name or "").startswith("related")]


# --- bodies --------------------------------------------------------------------

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "strong", "em", "b",
    "i", "u", "s", "sub", "sup", "small", "mark", "q", "cite", "abbr", "code", "pre", "span",
    "figure", "img", "figcaption", "blockquote", "table", "caption", "thead", "tbody", "tfoot",
    "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "abbr": {"title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}
DROP_WITH_CONTENT = {"script", "style", "iframe", "svg", "math", "noscript", "template",
                     "object", "embed", "title", "textarea", "select", "frameset"}  # fmt: skip


def sanitize_html(markup: str) -> str:
    """Keep only the allowlisted markup; links get rel="noopener noreferrer"."""
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def text_to_html(text: str) -> str:
    """Plain text to escaped paragraphs: blank lines split paragraphs, newlines break lines."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    return "".join(
        "<p>" + "<br>".join(html.escape(line.strip()) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p
    )


_BLOCKS = {"p", "br", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "figcaption", "tr",
           "td", "th", "caption", "pre", "hr", "ul", "ol", "table", "figure"}  # fmt: skip


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.parts.append("\n" if tag in _BLOCKS else "")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append("\n" if tag in _BLOCKS else "")


def html_to_text(markup: str) -> str:
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _looks_like_html(value: str) -> bool:
    return re.search(r"<(?:[a-zA-Z][a-zA-Z0-9]*[\s/>]|/[a-zA-Z]|!--)", value) is not None


def body_html_of(doc: NinjsIn) -> str:
    """The main body as sanitized HTML, whatever the newsroom sent."""
    body = _by_role(doc.bodies, ["main"]) or next((b for b in doc.bodies if b.value.strip()), None)
    if body is not None:
        kind = (body.contenttype or "").lower()
        is_html = "html" in kind or (not kind and _looks_like_html(body.value))
        return sanitize_html(body.value) if is_html else text_to_html(body.value)
    if doc.body_html:
        return sanitize_html(doc.body_html)
    return text_to_html(doc.body_text or "")


def reading_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


# --- slugs -----------------------------------------------------------------------


def slugify(text: str, *, fallback: str = "article", max_length: int = SLUG_MAX) -> str:
    """ASCII, lowercase, hyphenated; invisible (zero-width, bidi) characters removed."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cf", "Cc", "Co", "Cs"})
    text = anyascii(text).lower().replace("'", "")
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug or fallback


def slug_candidates(base: str) -> Iterable[str]:
    """base, base-2, base-3, ... for finding a slug no other story holds."""
    yield base
    n = 2
    while True:
        yield f"{base}-{n}"
        n += 1


# --- versions and lifecycle ------------------------------------------------------


class Decision(StrEnum):
    ACCEPTED = "accepted"
    STALE = "stale"  # older than the stored version: recorded, changes nothing
    DUPLICATE = "duplicate"  # same version, same content: nothing to do
    CONFLICT = "conflict"  # same version, different content: refused


@dataclass(frozen=True)
class Current:
    """What the store holds for a uri."""

    version: int
    content_hash: str
    slug: str


def decide(current: Current | None, version: int, digest: str) -> Decision:
    if current is None or version > current.version:
        return Decision.ACCEPTED
    if version < current.version:
        return Decision.STALE
    return Decision.DUPLICATE if digest == current.content_hash else Decision.CONFLICT


def lifecycle_of(doc: NinjsIn, *, seen_before: bool) -> Lifecycle:
    if doc.pubstatus in ("canceled", "withheld"):
        return "killed"
    if correction_of(doc):
        return "corrected"
    return "updated" if seen_before else "published"


def visibility(article: Article, now: datetime) -> str:
    """How the story stands at `now`: killed, embargoed, scheduled or visible."""
    if article.lifecycle == "killed":
        return "killed"
    if article.embargoed and article.embargoed > now:
        return "embargoed"
    if article.publish_at and article.publish_at > now:
        return "scheduled"
    return "visible"


# --- normalizing -------------------------------------------------------------------


def _passthrough(doc: NinjsIn, body_html: str) -> dict[str, Any]:
    """The accepted ninjs, with the body replaced by its sanitized form."""
    data = doc.model_dump(mode="json", by_alias=True, exclude_unset=True)
    for key in ("body_html", "body_text"):
        data.pop(key, None)
    data["bodies"] = [{"role": "main", "contenttype": "text/html", "value": body_html}]
    return data


def normalize(doc: NinjsIn, *, source: str, slug: str = "", lifecycle: Lifecycle = "published"
              ) -> Article:
    """The Article for a validated document (slug and lifecycle depend on history)."""
    body_html = body_html_of(doc)
    body_text = html_to_text(body_html)
    words = len(body_text.split())
    return Article(
        uri=doc.uri,
        version=doc.version,
        slug=slug,
        source=source,
        lifecycle=lifecycle,
        pubstatus=doc.pubstatus,
        language=doc.language,
        headline=headline_of(doc),
        subheadline=subheadline_of(doc),
        byline=doc.by,
        author_names=author_names_of(doc),
        subjects=_names(doc.subjects),
        genres=_names(doc.genres),
        body_html=body_html,
        body_text=body_text,
        word_count=words,
        reading_minutes=reading_minutes(words),
        lead_image=lead_image_of(doc),
        correction=correction_of(doc),
        firstcreated=doc.firstcreated,
        versioncreated=doc.versioncreated,
        embargoed=doc.embargoed,
        publish_at=doc.publish_at,
        pinned_related=pinned_related_of(doc),
        related_opt_out=doc.related_opt_out,
        ninjs=_passthrough(doc, body_html),
    )
