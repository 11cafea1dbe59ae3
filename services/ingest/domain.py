"""Pure ingest rules: read any ninjs dialect, validate, normalize, slug, versions, lifecycle.

No IO here; anything that depends on time takes `now` as an argument, and the
media files galley holds are passed in as a set of ids.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from services.ingest import dialects, media, text
from services.ingest.dialects import Reading
from services.ingest.ninjs import (
    COMPONENT,
    UNSUPPORTED_TYPES,
    Item,
    NinjsIn,
    Text,
    with_role,
)
from shared.envelope import MAX_INT_DIGITS, json_pointer
from shared.models import (
    MEDIA_TYPES,
    Article,
    AuthorProfile,
    Contributor,
    Dialect,
    ItemType,
    Lifecycle,
    Member,
)
from shared.slugs import slugify as shared_slugify

# kept importable from here: other modules and the bench call them through domain
sanitize_html = text.sanitize_html
html_to_text = text.html_to_text

SLUG_MAX = 100
MAX_DEPTH = 64  # the deepest a document may nest, whichever door it came through
CORRECTION_ROLE = "correction"
INVALID = "invalid-document"
UNSUPPORTED = "unsupported-item-type"
# description roles that stand for the story's summary (a standfirst)
SUMMARY_ROLES = frozenset({"summary", "abstract", "lead", "teaser", "standfirst", "intro"})
# description roles that are not text of the story
NOT_TEXT_ROLES = frozenset({"caption", "alt", "alttext", "alt-text", CORRECTION_ROLE})
AUTHOR_RELS = frozenset({"author", "creator", "writer", "byline"})
MEDIA_CAPTION_HEADLINE = 120  # a media item with no headline is titled by its caption, cut here


# --- errors ----------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    pointer: str  # RFC 6901 JSON pointer into the submitted document
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.detail}


class Invalid(ValueError):
    """The submitted document is wrong; `errors` says where and why."""

    def __init__(
        self, errors: Sequence[FieldError], title: str = "invalid document", problem: str = INVALID
    ) -> None:
        super().__init__("; ".join(f"{e.pointer or '/'}: {e.detail}" for e in errors))
        self.errors = list(errors)
        self.title = title
        self.problem = problem


def _field_errors(exc: ValidationError, reading: Reading | None = None) -> list[FieldError]:
    errors = []
    for err in exc.errors(include_url=False)[:MAX_ERRORS]:
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "timezone_aware":
            msg = "must carry a timezone offset, e.g. 2025-02-04T10:12:00+02:00"
        loc = err["loc"]
        errors.append(FieldError(reading.pointer(loc) if reading else json_pointer(loc), msg))
    return errors


# --- parsing -----------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """A validated document: the item in 2.x spellings, and how it was sent."""

    doc: NinjsIn
    reading: Reading
    raw: dict[str, Any]

    @property
    def dialect(self) -> Dialect:
        return self.reading.dialect

    @property
    def uri(self) -> str:
        return self.doc.uri

    @property
    def type(self) -> ItemType:
        """The item type; none given is a text story, a 1.x component is text too."""
        kind = self.doc.type or "text"
        return "text" if kind == COMPONENT else kind  # type: ignore[return-value]


# --- text every page, feed and database can carry ------------------------------------------

# Removed from every string and property name of a document: `text.CONTROLS` (the C0
# controls but tab, line feed and carriage return; DEL and the C1 controls; the
# noncharacters). XML 1.0 cannot carry the C0 controls and U+FFFE/U+FFFF at all, and none
# of them is text a reader should get.
CONTROLS = text.CONTROLS
without_controls = text.without_controls
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_INT_BITS = math.ceil(MAX_INT_DIGITS * math.log2(10))
MAX_ERRORS = 20  # problems reported for one document


def clean_document(raw: dict[str, Any]) -> dict[str, Any]:
    """The document with the control characters of every string and property name removed
    (a copy; `raw` is not changed). Raises Invalid, with a pointer into the document as
    sent, for what no text can carry: a lone surrogate, a number that is not finite, an
    integer over MAX_INT_DIGITS digits, a value that is not JSON; and for markup nested
    deeper than `text.MAX_MARKUP_DEPTH` elements, which no sanitizer reads in linear time.
    Recursive: the document is at most MAX_DEPTH deep (checked before)."""
    errors: list[FieldError] = []

    def refuse(path: tuple[Any, ...], detail: str) -> None:
        if len(errors) < MAX_ERRORS:
            errors.append(FieldError(json_pointer(path), detail))

    def clean(value: Any, parent: tuple[Any, ...], key: Any) -> Any:
        if isinstance(value, str):
            if _SURROGATE.search(value):
                refuse((*parent, key), "a lone surrogate is not Unicode text")
                return value
            if "<" in value and text.nests_deeper_than(value):
                refuse(
                    (*parent, key),
                    f"the markup nests deeper than {text.MAX_MARKUP_DEPTH} elements",
                )
                return value
            return without_controls(value)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if value.bit_length() > _MAX_INT_BITS:
                refuse((*parent, key), f"an integer of more than {MAX_INT_DIGITS} digits")
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                refuse((*parent, key), "must be a finite number")
            return value
        here = (*parent, key) if key is not _ROOT else parent
        if isinstance(value, list):
            return [clean(item, here, i) for i, item in enumerate(value)]
        if isinstance(value, dict):
            out = {}
            for name, item in value.items():
                if not isinstance(name, str):
                    refuse(here, "a property name must be a string")
                    continue
                if _SURROGATE.search(name):
                    refuse(here, "a property name holds a lone surrogate, not Unicode text")
                    continue
                out[without_controls(name)] = clean(item, here, name)
            return out
        refuse((*parent, key), "must be a JSON value")
        return None

    cleaned: dict[str, Any] = clean(raw, (), _ROOT)
    if errors:
        raise Invalid(errors)
    return cleaned


_ROOT = object()


def parse_article(raw: Any) -> Parsed:
    """Validate a ninjs document in any dialect; raises Invalid with a pointer, into the
    document as sent, for each problem. Control characters are removed from every string
    first (`clean_document`)."""
    if not isinstance(raw, dict):
        raise Invalid([FieldError("", "a ninjs news item must be a JSON object")])
    if nesting_depth(raw, MAX_DEPTH) > MAX_DEPTH:
        raise Invalid([FieldError("", f"the document nests deeper than {MAX_DEPTH} levels")])
    raw = clean_document(raw)
    reading = dialects.canonical(raw)
    _refuse_unsupported(reading)
    try:
        doc = NinjsIn.model_validate(reading.doc)
    except ValidationError as exc:
        errors = _field_errors(exc, reading)
        uri_missing = any(e["loc"] == ("uri",) and e["type"] == "missing" for e in exc.errors())
        if uri_missing:
            errors = [
                FieldError(*_uri_missing(reading)) if e.pointer == "/uri" else e for e in errors
            ]
        if not any("headline" in e.pointer for e in errors) and not _has_headline(reading.doc):
            errors.append(_headline_missing_in(reading.dialect, reading.doc.get("type")))
        raise Invalid(errors) from None
    parsed = Parsed(doc, reading, raw)
    if not headline_of(parsed):
        raise Invalid([_headline_missing(parsed)])
    return parsed


def _refuse_unsupported(reading: Reading) -> None:
    """An event or planning item is refused as such, before anything else is checked."""
    sent = reading.doc.get("type")
    kind = sent.strip().lower() if isinstance(sent, str) else None
    if kind is None and "eventdetails" in reading.doc:
        kind = "event"
    if kind in UNSUPPORTED_TYPES:
        where = reading.pointer(("type",)) if isinstance(sent, str) else ""
        detail = (
            f"galley publishes text, pictures, video, audio, graphics and packages;"
            f" {kind} items are not supported"
        )
        raise Invalid(
            [FieldError(where, detail)], title="unsupported item type", problem=UNSUPPORTED
        )


def _uri_missing(reading: Reading) -> tuple[str, str]:
    if reading.dialect == "superdesk":
        return "/guid", "a news item needs its identifier: guid (or uri)"
    return "/uri", "a news item needs its identifier: uri"


def _headline_missing(parsed: Parsed) -> FieldError:
    return _headline_missing_in(parsed.dialect, parsed.type)


def _headline_missing_in(dialect: Dialect, kind: Any) -> FieldError:
    if dialect in ("ninjs-1", "superdesk"):
        return FieldError("/headline", "a headline is required (headline)")
    if kind in MEDIA_TYPES:
        return FieldError(
            "/headlines",
            "a headline, title or caption is required"
            " (headlines[].value, title or descriptions[].value)",
        )
    return FieldError("/headlines", "a headline is required (headlines[].value)")


def _has_headline(doc: dict[str, Any]) -> bool:
    """Whether an (invalid) document has any headline, title or description to go by."""
    for key in ("headlines", "descriptions"):
        entries = doc.get(key)
        if isinstance(entries, list) and any(
            isinstance(e, dict) and isinstance(e.get("value"), str) and e["value"].strip()
            for e in entries
        ):
            return True
    return any(isinstance(doc.get(k), str) and doc[k].strip() for k in ("title", "slugline"))


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


MAX_ALIAS = 200  # characters of one alias of an author


def parse_author(raw: Any) -> AuthorProfile:
    """Validate an author profile; a missing slug is derived from the name. Control
    characters are removed as from an article."""
    if not isinstance(raw, dict):
        raise Invalid([FieldError("", "an author profile must be a JSON object")])
    if nesting_depth(raw, MAX_DEPTH) > MAX_DEPTH:
        raise Invalid([FieldError("", f"the document nests deeper than {MAX_DEPTH} levels")])
    data = clean_document(raw)
    aliases = data.get("aliases")
    if isinstance(aliases, list):
        long = [
            FieldError(f"/aliases/{i}", f"String should have at most {MAX_ALIAS} characters")
            for i, alias in enumerate(aliases)
            if isinstance(alias, str) and len(alias) > MAX_ALIAS
        ]
        if long:
            raise Invalid(long[:MAX_ERRORS])
    if not data.get("slug") and isinstance(data.get("name"), str):
        data["slug"] = slugify(data["name"], fallback="author")
    try:
        return AuthorProfile.model_validate(data)
    except ValidationError as exc:
        raise Invalid(_field_errors(exc)) from None


def content_hash(parsed: Parsed | Any) -> str:
    """A stable digest of a validated document: same content, same hash."""
    model = parsed.doc if isinstance(parsed, Parsed) else parsed
    dumped = model.model_dump(mode="json", by_alias=True)
    canonical = json.dumps(dumped, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- picking things out of an item ----------------------------------------------


def _by_role(items: Sequence[Text], roles: Iterable[str]) -> Text | None:
    return with_role(list(items), frozenset(roles))


def _one_line(value: str) -> str:
    """A headline's text on one line; markup in it is sanitized before it is read."""
    if "<" in value:
        return " ".join(text.html_to_text(text.sanitize_html(value)).split())
    return " ".join(value.split())


def headline_of(parsed: Parsed) -> str:
    """The main headline, else the first; else the title; a media item falls back to its
    caption, then anything falls back to its slugline."""
    doc = parsed.doc
    found = _by_role(doc.headlines, ["main"]) or next(
        (h for h in doc.headlines if h.value.strip()), None
    )
    if found is not None:
        return _one_line(found.value)
    if doc.title and doc.title.strip():
        return _one_line(doc.title)
    if parsed.type in MEDIA_TYPES:
        caption = media.caption_of(doc)
        if caption:
            return _cut(caption, MEDIA_CAPTION_HEADLINE)
    return _one_line(doc.slugline or "")


def _cut(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rsplit(" ", 1)[0] + "…"


def subheadline_of(parsed: Parsed, *, body_from_description: bool) -> str | None:
    """A sub headline, else a summary description (a standfirst)."""
    doc = parsed.doc
    found = _by_role(doc.headlines, ["sub", "subheadline", "subtitle"])
    if found is None and parsed.type not in MEDIA_TYPES and not body_from_description:
        roles = set(SUMMARY_ROLES)
        if parsed.dialect in ("superdesk", "ninjs-1"):
            roles |= {"text", "html", "richtext"}  # description_text / description_html
        found = _by_role(doc.descriptions, roles)
    return _one_line(found.value) or None if found else None


def correction_of(doc: Item) -> str | None:
    """A correction is a `descriptions` entry with role "correction"; its value is shown."""
    found = _by_role(doc.descriptions, [CORRECTION_ROLE])
    return text.html_to_text(text.sanitize_html(found.value)) if found else None


def contributors_of(doc: Item) -> list[Contributor]:
    """Authors as the document describes them: Superdesk's `authors`, then ninjs `people`
    with rel author. One entry per name."""
    found: dict[str, Contributor] = {}
    for author in doc.authors:
        name = " ".join((author.name or "").split())
        if not name or name.casefold() in found:
            continue
        role = author.jobtitle.name if author.jobtitle and author.jobtitle.name else author.role
        found[name.casefold()] = Contributor(
            name=name,
            role=(role or "").strip() or None,
            bio=text.html_to_text(text.sanitize_html(author.biography)) or None
            if author.biography
            else None,
            avatar_url=author.avatar_url if media.is_web_url(author.avatar_url) else None,
            uri=author.uri,
        )
    for person in doc.people:
        name = " ".join((person.name or "").split())
        if name and (person.rel or "").lower() in AUTHOR_RELS and name.casefold() not in found:
            found[name.casefold()] = Contributor(name=name, uri=person.uri)
    return list(found.values())


def _names(items: Iterable[Any]) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        name = " ".join((item.name or item.literal or "").split())
        if name:
            seen.setdefault(name.casefold(), name)
    return list(seen.values())


def members_of(doc: Item) -> list[Member]:
    """A package's items, in its order: every association that names an item."""
    members = []
    for association in doc.associations:
        uri = association.uri or _extra_str(association, "guid")
        if not uri:
            continue
        headline = next((h.value for h in association.headlines if h.value.strip()), None)
        members.append(
            Member(
                uri=uri,
                group=association.name or "",
                type=association.type,
                headline=_one_line(headline) if headline else None,
            )
        )
    return members


def _extra_str(item: Item, key: str) -> str | None:
    value = (item.model_extra or {}).get(key)
    return value if isinstance(value, str) and value.strip() else None


def _main_member(doc: Item) -> Item | None:
    """The package's main item, when the package carries it (with a body) itself."""
    carried = [a for a in doc.associations if a.bodies or a.associations or a.renditions]
    main = [a for a in carried if (a.name or "").lower().startswith("main")]
    found = main or carried
    return found[0] if found else None


def pinned_related_of(doc: Item) -> list[str]:
    """Editor-pinned stories: associations whose name starts with "related"."""
    return [a.uri for a in doc.associations if a.uri and (a.name or "").startswith("related")]


# --- bodies --------------------------------------------------------------------


def _candidates(texts: Sequence[Text]) -> list[text.Candidate]:
    return [text.Candidate(t.value, t.contenttype, t.role) for t in texts]


def body_of(parsed: Parsed, assets: Collection[str]) -> tuple[str, bool]:
    """The body as sanitized HTML, and whether a description had to stand in for it."""
    doc = parsed.doc
    pushed = media.pushed_hrefs(doc, assets)

    def image_src(src: str) -> str:
        return pushed.get(src, src)

    chosen = text.choose_body(_candidates(doc.bodies))
    if chosen is not None:
        return text.body_html(chosen, image_src), False
    if parsed.type in MEDIA_TYPES:
        return "", False
    if parsed.type == "composite" and (main := _main_member(doc)) is not None:
        chosen = text.choose_body(_candidates(main.bodies))
        if chosen is not None:
            return text.body_html(chosen, image_src), False
    stand_in = [t for t in doc.descriptions if (t.role or "").lower() not in NOT_TEXT_ROLES]
    chosen = text.choose_body(_candidates(stand_in))
    return text.body_html(chosen, image_src), chosen is not None


# --- slugs -----------------------------------------------------------------------


def slugify(value: str, *, fallback: str = "article", max_length: int = SLUG_MAX) -> str:
    """A story's (or author's) slug: shared/slugs.py's rule, `fallback` when empty."""
    return shared_slugify(value, fallback=fallback, max_length=max_length)


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

    version: int  # galley's ordinal
    content_hash: str
    slug: str
    source_version: str | None = None  # the newsroom's version string
    versioncreated: datetime | None = None


@dataclass(frozen=True)
class Incoming:
    """The version facts of a document just sent."""

    version: str | None
    versioncreated: datetime | None
    content_hash: str


_NUMERIC = re.compile(r"^\d{1,30}(?:\.\d{1,30}){0,5}$")
MAX_ORDINAL = 2**53  # the largest newsroom version used as galley's ordinal as it is


def _numeric(version: str | None) -> tuple[int, ...] | None:
    """ "3" -> (3, 0, ...), "2.10" -> (2, 10, 0, ...); None for a version that is not
    numbers. Padded to one length, so "1.0" is the same version as "1"."""
    if not version or not _NUMERIC.match(version):
        return None
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (6 - len(parts)))


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def order(current: Current, incoming: Incoming) -> int | None:
    """How the incoming version stands to the stored one: 1 newer, 0 the same version,
    -1 older, None when the two cannot be ordered (then arrival order decides).

    Numeric versions ("1", "2", "10", "2.1") compare as numbers; equal version strings
    are the same version; otherwise `versioncreated` decides when both have it.
    """
    a, b = _numeric(incoming.version), _numeric(current.source_version)
    if a is not None and b is not None:
        return _cmp(a, b)
    if incoming.version is not None and incoming.version == current.source_version:
        return 0
    if incoming.versioncreated is not None and current.versioncreated is not None:
        # an equal date does not make two different versions one (producers that date
        # versions to the minute): then arrival order decides
        return _cmp(incoming.versioncreated, current.versioncreated) or None
    return None


def decide(current: Current | None, incoming: Incoming) -> Decision:
    if current is None:
        return Decision.ACCEPTED
    standing = order(current, incoming)
    if standing is None:
        same = incoming.content_hash == current.content_hash
        return Decision.DUPLICATE if same else Decision.ACCEPTED
    if standing > 0:
        return Decision.ACCEPTED
    if standing < 0:
        return Decision.STALE
    return (
        Decision.DUPLICATE if incoming.content_hash == current.content_hash else Decision.CONFLICT
    )


def ordinal(current: Current | None, version: str | None) -> int:
    """galley's version number for an accepted version: the newsroom's own when it is a
    whole number above the stored one, else one more than the stored one (1 at first)."""
    numeric = _numeric(version)
    floor = current.version + 1 if current is not None else 1
    whole = numeric is not None and "." not in (version or "") and numeric[0] <= MAX_ORDINAL
    if whole and numeric is not None and (current is None or numeric[0] >= floor):
        return numeric[0]
    return floor


def lifecycle_of(parsed: Parsed, *, seen_before: bool) -> Lifecycle:
    if parsed.doc.pubstatus in ("canceled", "withheld"):
        return "killed"
    if correction_of(parsed.doc):
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

_BODY_KEYS = re.compile(r"^body_[A-Za-z0-9_]+$")


def _passthrough(raw: dict[str, Any], body_html: str) -> dict[str, Any]:
    """The document as sent, with its bodies replaced by the one sanitized body."""
    data = {k: v for k, v in raw.items() if k != "bodies" and not _BODY_KEYS.match(str(k))}
    data["bodies"] = [{"role": "main", "contenttype": "text/html", "value": body_html}]
    return data


def _content_missing(parsed: Parsed) -> FieldError:
    if parsed.type in MEDIA_TYPES:
        where = "/renditions"
        return FieldError(
            where,
            f"a {parsed.type} needs a rendition with an http(s) href or a"
            " file pushed to /v1/assets (its media id)",
        )
    where = "/body_html" if parsed.dialect in ("ninjs-1", "superdesk") else "/bodies"
    return FieldError(where, "a story needs a body (or a picture) to be published")


def normalize(
    parsed: Parsed,
    *,
    source: str,
    slug: str = "",
    lifecycle: Lifecycle = "published",
    version: int | None = None,
    assets: Collection[str] = frozenset(),
) -> Article:
    """The Article for a validated document (slug, lifecycle and galley's version depend
    on history; `assets` are the media ids galley holds). Raises Invalid when the item
    has nothing to show."""
    doc, kind = parsed.doc, parsed.type
    html, from_description = body_of(parsed, assets)
    shown = media.media_of(doc, kind, assets) if kind in MEDIA_TYPES else None  # type: ignore[arg-type]
    lead = media.lead_image_of(doc, assets) if kind not in MEDIA_TYPES else None
    if lead is None and kind == "composite" and (main := _main_member(doc)) is not None:
        lead = media.lead_image_of(main, assets)
    killed = doc.pubstatus in ("canceled", "withheld")
    if not killed and not (html or shown or lead):
        raise Invalid([_content_missing(parsed)])
    body_text = text.html_to_text(html)
    counted = text.count(body_text)
    contributors = contributors_of(doc)
    return Article(
        uri=doc.uri,
        version=version if version is not None else ordinal(None, doc.version),
        slug=slug,
        source=source,
        type=kind,
        dialect=parsed.dialect,
        source_version=doc.version,
        lifecycle=lifecycle,
        pubstatus=doc.pubstatus,
        language=doc.language,
        headline=headline_of(parsed),
        subheadline=subheadline_of(parsed, body_from_description=from_description),
        byline=" ".join(doc.by.split()) if doc.by and doc.by.strip() else None,
        author_names=[c.name for c in contributors],
        contributors=contributors,
        subjects=_names(doc.subjects),
        genres=_names(doc.genres),
        body_html=html,
        body_text=body_text,
        word_count=counted.total,
        reading_minutes=text.reading_minutes(counted, doc.language),
        lead_image=lead,
        media=shown,
        members=members_of(doc) if kind == "composite" else [],
        copyright=media.copyright_of(doc),
        correction=correction_of(doc),
        firstcreated=doc.firstcreated,
        firstpublished=doc.firstpublished,
        versioncreated=doc.versioncreated,
        embargoed=doc.embargoed,
        publish_at=doc.publish_at,
        pinned_related=pinned_related_of(doc),
        related_opt_out=doc.related_opt_out,
        ninjs=_passthrough(parsed.raw, html),
    )
