"""A lenient model of one news item in ninjs 2.x spellings (see `dialects`).

Lenient means unknown properties are kept, not refused; the properties galley
relies on are checked, and each problem gets a JSON pointer into the document
as sent. The caps below are far above anything a newsroom sends (docs/ingest.md
lists them); they keep one document's work, and every page, feed and event that
shows it, bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
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

# characters in one value
MAX_HEADLINE = 1_000  # a headline, title or slugline
MAX_BYLINE = 1_000  # `by`
MAX_NAME = 1_000  # a person's, subject's or genre's name, a role, a code
MAX_URL = 8_192  # a uri or href
MAX_DESCRIPTION = 100_000  # a description (summary, caption, correction) or a biography
MAX_BODY = 2 * 1024 * 1024  # a body: no more than the largest document ingest reads
MAX_NOTICE = 10_000  # a copyright notice or holder
MAX_TOKEN = 200  # a type, role, content type or version
# entries in one list
MAX_TEXTS = 50  # headlines, bodies or descriptions of one item
MAX_PEOPLE = 200
MAX_AUTHORS = 100
MAX_SUBJECTS = 500
MAX_GENRES = 50
MAX_RENDITIONS = 100
MAX_ASSOCIATIONS = 500
MAX_DURATION = 10_000_000.0  # seconds of a video or audio rendition (115 days)


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, allow_inf_nan=False)


class Text(Loose):
    """A body: `{role, contenttype, value}`."""

    role: str | None = Field(default=None, max_length=MAX_TOKEN)
    contenttype: str | None = Field(default=None, max_length=MAX_TOKEN)
    value: str = Field(max_length=MAX_BODY)


class Headline(Text):
    value: str = Field(max_length=MAX_HEADLINE)


class Description(Text):
    value: str = Field(max_length=MAX_DESCRIPTION)


def with_role(items: Sequence[Text], roles: set[str] | frozenset[str]) -> Text | None:
    """The first entry with a value whose role (any case) is one of `roles`."""
    return next((t for t in items if (t.role or "").lower() in roles and t.value.strip()), None)


class Named(Loose):
    """A person, subject, genre or place."""

    name: str | None = Field(default=None, max_length=MAX_NAME)
    rel: str | None = Field(default=None, max_length=MAX_NAME)
    uri: str | None = Field(default=None, max_length=MAX_URL)
    literal: str | None = Field(default=None, max_length=MAX_NAME)


class JobTitle(Loose):
    qcode: str | None = Field(default=None, max_length=MAX_NAME)
    name: str | None = Field(default=None, max_length=MAX_NAME)


class Author(Loose):
    """One of Superdesk's `authors`: the newsroom's own account of a byline author."""

    name: str | None = Field(default=None, max_length=MAX_NAME)
    code: str | None = Field(default=None, max_length=MAX_NAME)
    role: str | None = Field(default=None, max_length=MAX_NAME)
    biography: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    avatar_url: str | None = Field(default=None, max_length=MAX_URL)
    jobtitle: JobTitle | None = None
    uri: str | None = Field(default=None, max_length=MAX_URL)


class Rendition(Loose):
    name: str | None = Field(default=None, max_length=MAX_NAME)
    href: str | None = Field(default=None, max_length=MAX_URL)
    contenttype: str | None = Field(default=None, max_length=MAX_TOKEN)
    width: float | None = Field(default=None, ge=0, le=1_000_000)
    height: float | None = Field(default=None, ge=0, le=1_000_000)
    duration: float | None = Field(default=None, ge=0, le=MAX_DURATION)
    media: str | None = Field(default=None, max_length=MAX_NAME)  # Superdesk's media id


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

    uri: str | None = Field(default=None, max_length=MAX_URL)
    name: str | None = Field(default=None, max_length=MAX_NAME)  # in associations
    type: str | None = Field(default=None, max_length=MAX_TOKEN)
    version: str | None = Field(default=None, max_length=MAX_TOKEN)
    pubstatus: PubStatus = "usable"
    language: str | None = Field(default=None, max_length=35)
    # A story's own dates without an offset are read as UTC (producers do send them so);
    # an embargo or a scheduled time must say its offset: guessing could release a story early.
    firstcreated: datetime | None = None
    firstpublished: datetime | None = None  # Superdesk
    versioncreated: datetime | None = None
    embargoed: AwareDatetime | None = None
    title: str | None = Field(default=None, max_length=MAX_HEADLINE)
    slugline: str | None = Field(default=None, max_length=MAX_HEADLINE)
    headlines: list[Headline] = Field(default_factory=list, max_length=MAX_TEXTS)
    bodies: list[Text] = Field(default_factory=list, max_length=MAX_TEXTS)
    descriptions: list[Description] = Field(default_factory=list, max_length=MAX_TEXTS)
    by: str | None = Field(default=None, max_length=MAX_BYLINE)
    people: list[Named] = Field(default_factory=list, max_length=MAX_PEOPLE)
    authors: list[Author] = Field(default_factory=list, max_length=MAX_AUTHORS)
    subjects: list[Named] = Field(default_factory=list, max_length=MAX_SUBJECTS)
    genres: list[Named] = Field(default_factory=list, max_length=MAX_GENRES)
    renditions: list[Rendition] = Field(default_factory=list, max_length=MAX_RENDITIONS)
    associations: list[Item] = Field(default_factory=list, max_length=MAX_ASSOCIATIONS)
    copyrightnotice: str | None = Field(default=None, max_length=MAX_NOTICE)
    copyrightholder: str | None = Field(default=None, max_length=MAX_NOTICE)

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
