"""Payload models carried in event `data`.

An article moves through three shapes, each a superset of the one before:

    Article (ingest) -> EnrichedArticle (enrichment) -> PublishedArticle (publish)

`version` is an integer that only grows per `uri`; every consumer guards its
state changes with it, so processing order can never let an old version win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl

PubStatus = Literal["usable", "withheld", "canceled"]
Lifecycle = Literal["published", "updated", "corrected", "killed"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Image(Frozen):
    href: str
    caption: str | None = None
    credit: str | None = None
    alt: str | None = None
    width: int | None = None
    height: int | None = None
    contenttype: str | None = None


class AuthorProfile(Frozen):
    """An entry of the author directory, as newsroom systems send it."""

    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    role: str | None = Field(default=None, max_length=200)
    bio: str | None = Field(default=None, max_length=10_000)
    avatar_url: HttpUrl | None = None
    aliases: list[str] = Field(default_factory=list, max_length=50)


class Article(Frozen):
    """A normalized, sanitized article version as accepted by ingest."""

    uri: str
    version: int = Field(ge=1)
    slug: str
    source: str = "default"  # the newsroom source that sent it
    lifecycle: Lifecycle = "published"
    pubstatus: PubStatus = "usable"
    language: str | None = None
    headline: str
    subheadline: str | None = None
    byline: str | None = None
    author_names: list[str] = Field(default_factory=list)
    subjects: list[str] = Field(default_factory=list)
    genres: list[str] = Field(default_factory=list)
    body_html: str = ""  # sanitized HTML: the only markup ever rendered raw
    body_text: str = ""  # plain text of the body, for search and scoring
    word_count: int = 0
    reading_minutes: int = 1
    lead_image: Image | None = None
    correction: str | None = None  # shown on the page for a correction
    firstcreated: AwareDatetime | None = None
    versioncreated: AwareDatetime | None = None
    embargoed: AwareDatetime | None = None  # nothing visible before this
    publish_at: AwareDatetime | None = None  # scheduled publication
    pinned_related: list[str] = Field(default_factory=list)  # editor-pinned uris
    related_opt_out: bool = False
    ninjs: dict[str, Any] = Field(default_factory=dict)  # the accepted ninjs, body sanitized
    accepted_at: AwareDatetime | None = None  # when ingest accepted this version

    @property
    def visible_from(self) -> datetime | None:
        """The earliest moment anything about this version may be shown."""
        times = [t for t in (self.embargoed, self.publish_at) if t is not None]
        return max(times) if times else None


class AuthorCard(Frozen):
    """A byline author as shown in the article's author box."""

    name: str
    slug: str | None = None  # None: not in the directory yet
    role: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    url: str | None = None  # the author page ("Read more")


class RelatedLink(Frozen):
    uri: str
    slug: str
    headline: str
    url: str
    score: float = 0.0
    pinned: bool = False
    matched_terms: list[str] = Field(default_factory=list)


class EnrichedArticle(Article):
    authors: list[AuthorCard] = Field(default_factory=list)
    related: list[RelatedLink] = Field(default_factory=list)
    enriched_at: AwareDatetime | None = None
    enrichment_revision: int = 0  # grows each time enrichment re-runs for this version


class PublishedArticle(EnrichedArticle):
    url: str  # path on the reader-facing site, e.g. /articles/<slug>
    published_at: AwareDatetime


class Rejection(Frozen):
    """Why an input was refused (article.rejected)."""

    reason: str
    errors: list[dict[str, Any]] = Field(default_factory=list)
    uri: str | None = None
    entry_id: str | None = None  # the input stream entry, when it came from one
    source: str | None = None
