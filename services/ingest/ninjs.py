"""A lenient model of one news item in ninjs 2.x spellings (see `dialects`).

Lenient means unknown properties are kept, not refused; the properties galley
relies on are checked, and each problem gets a JSON pointer into the document
as sent. The limits below are far above anything a newsroom sends; they keep
one request's work bounded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shared.models import PubStatus

PUBLISH_AT = "x-galley-publish-at"  # scheduled publication (galley extension)
RELATED_OPT_OUT = "x-galley-related-opt-out"  # no automatic related links (galley extension)

# item types galley publishes, and the ones it refuses as unsupported
PUBLISHED_TYPES = frozenset({"text", "picture", "video", "audio", "graphic", "composite"})
UNSUPPORTED_TYPES = frozenset({"event", "planning"})
COMPONENT = "component"  # a 1.x part of a composite: published as text
# item types some producers use that are not ninjs's own, read as the ninjs type they mean
SYNONYMS = {
    "story": "text",
    "article": "text",
    "news": "text",
    "preformatted": "text",
    "photo": "picture",
    "image": "picture",
    "graphics": "graphic",
    "package": "composite",
    "gallery": "composite",
    "audio_clip": "audio",
}

MAX_TEXT = 5_000_000  # characters in one headline, body or description value
MAX_SHORT = 10_000  # characters in a name, byline, title, href
MAX_ENTRIES = 1_000  # entries in one list (people, subjects, renditions, ...)
MAX_TEXTS = 100  # headlines, bodies or descriptions of one item


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Text(Loose):
    """A headline, body or description: `{role, contenttype, value}`."""

    role: str | None = Field(default=None, max_length=200)
    contenttype: str | None = Field(default=None, max_length=200)
    value: str = Field(max_length=MAX_TEXT)


def with_role(items: list[Text], roles: set[str] | frozenset[str]) -> Text | None:
    """The first entry with a value whose role (any case) is one of `roles`."""
    return next((t for t in items if (t.role or "").lower() in roles and t.value.strip()), None)


class Named(Loose):
    """A person, subject, genre or place."""

    name: str | None = Field(default=None, max_length=MAX_SHORT)
    rel: str | None = Field(default=None, max_length=MAX_SHORT)
    uri: str | None = Field(default=None, max_length=MAX_SHORT)
    literal: str | None = Field(default=None, max_length=MAX_SHORT)


class JobTitle(Loose):
    qcode: str | None = None
    name: str | None = Field(default=None, max_length=MAX_SHORT)


class Author(Loose):
    """One of Superdesk's `authors`: the newsroom's own account of a byline author."""

    name: str | None = Field(default=None, max_length=MAX_SHORT)
    code: str | None = Field(default=None, max_length=MAX_SHORT)
    role: str | None = Field(default=None, max_length=MAX_SHORT)
    biography: str | None = Field(default=None, max_length=MAX_TEXT)
    avatar_url: str | None = Field(default=None, max_length=MAX_SHORT)
    jobtitle: JobTitle | None = None
    uri: str | None = Field(default=None, max_length=MAX_SHORT)


class Rendition(Loose):
    name: str | None = Field(default=None, max_length=MAX_SHORT)
    href: str | None = Field(default=None, max_length=MAX_SHORT)
    contenttype: str | None = Field(default=None, max_length=200)
    width: float | None = Field(default=None, ge=0, le=1_000_000)
    height: float | None = Field(default=None, ge=0, le=1_000_000)
    duration: float | None = Field(default=None, ge=0)
    media: str | None = Field(default=None, max_length=MAX_SHORT)  # Superdesk's media id


def _version_text(value: Any) -> Any:
    """ninjs says `version` is a string; numbers are read as their digits."""
    if value is None or isinstance(value, str):
        return value.strip() if isinstance(value, str) else None
    if isinstance(value, bool):
        raise ValueError('version must be a string such as "3"')
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raise ValueError('version must be a string such as "3"')


class Item(Loose):
    """A news item's properties, as a document or as one of its associations."""

    uri: str | None = Field(default=None, max_length=MAX_SHORT)
    name: str | None = Field(default=None, max_length=MAX_SHORT)  # in associations
    type: str | None = Field(default=None, max_length=200)
    version: str | None = Field(default=None, max_length=200)
    pubstatus: PubStatus = "usable"
    language: str | None = Field(default=None, max_length=35)
    # A story's own dates without an offset are read as UTC (producers do send them so);
    # an embargo or a scheduled time must say its offset: guessing could release a story early.
    firstcreated: datetime | None = None
    firstpublished: datetime | None = None  # Superdesk
    versioncreated: datetime | None = None
    embargoed: AwareDatetime | None = None
    title: str | None = Field(default=None, max_length=MAX_SHORT)
    slugline: str | None = Field(default=None, max_length=MAX_SHORT)
    headlines: list[Text] = Field(default_factory=list, max_length=MAX_TEXTS)
    bodies: list[Text] = Field(default_factory=list, max_length=MAX_TEXTS)
    descriptions: list[Text] = Field(default_factory=list, max_length=MAX_TEXTS)
    by: str | None = Field(default=None, max_length=MAX_SHORT)
    people: list[Named] = Field(default_factory=list, max_length=MAX_ENTRIES)
    authors: list[Author] = Field(default_factory=list, max_length=MAX_ENTRIES)
    subjects: list[Named] = Field(default_factory=list, max_length=MAX_ENTRIES)
    genres: list[Named] = Field(default_factory=list, max_length=MAX_ENTRIES)
    renditions: list[Rendition] = Field(default_factory=list, max_length=MAX_ENTRIES)
    associations: list[Item] = Field(default_factory=list, max_length=MAX_ENTRIES)
    copyrightnotice: str | None = Field(default=None, max_length=MAX_SHORT)
    copyrightholder: str | None = Field(default=None, max_length=MAX_SHORT)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        return _version_text(value)

    @field_validator("firstcreated", "firstpublished", "versioncreated")
    @classmethod
    def _utc_when_naive(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        kind = value.strip().lower()
        return SYNONYMS.get(kind, kind)

    @field_validator("pubstatus", mode="before")
    @classmethod
    def _pubstatus(cls, value: Any) -> Any:
        if value is None:
            return "usable"
        return value.strip().lower() if isinstance(value, str) else value


class NinjsIn(Item):
    """One ninjs news item as a newsroom system sends it, in 2.x spellings."""

    uri: str = Field(min_length=1, max_length=1000)
    publish_at: AwareDatetime | None = Field(default=None, alias=PUBLISH_AT)
    related_opt_out: bool = Field(default=False, alias=RELATED_OPT_OUT)

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("uri must not be blank")
        return value.strip()

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        known = PUBLISHED_TYPES | UNSUPPORTED_TYPES | {COMPONENT}
        if value is not None and value not in known:
            raise ValueError(f"type must be one of {', '.join(sorted(known))}")
        return value
