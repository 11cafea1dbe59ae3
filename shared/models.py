"""Payload models carried in event `data`.

An article moves through three shapes, each a superset of the one before:

    Article (ingest) -> EnrichedArticle (enrichment) -> PublishedArticle (publish)

Every news item type a newsroom sends becomes an `Article`: a text story, a
picture, video, audio or graphic (`media` holds its renditions), or a package
(`members` lists the items it groups).

`version` is galley's ordinal for the uri: an integer that only grows per `uri`
(the newsroom's own version when that is a whole number, otherwise one more than
the version stored); every consumer guards its state changes with it, so
processing order can never let an old version win. `source_version` is the
version string exactly as the newsroom sent it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, RootModel

PubStatus = Literal["usable", "withheld", "canceled"]
Lifecycle = Literal["published", "updated", "corrected", "killed"]
ItemType = Literal["text", "picture", "video", "audio", "graphic", "composite"]
MediaType = Literal["picture", "video", "audio", "graphic"]
MEDIA_TYPES: tuple[str, ...] = ("picture", "video", "audio", "graphic")
# How the newsroom spelled the document: ninjs 1.x (IPTC's spellings), Superdesk's
# flavour of 1.x, ninjs 2.x, ninjs 3.x (camelCase).
Dialect = Literal["ninjs-1", "superdesk", "ninjs-2", "ninjs-3"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Image(Frozen):
    href: str  # an http(s) URL, or a path on the site (/media/<id>) for a pushed asset
    caption: str | None = None
    credit: str | None = None
    alt: str | None = None
    width: int | None = None
    height: int | None = None
    contenttype: str | None = None
    copyright: str | None = None


class Rendition(Frozen):
    """One file of a media item: an http(s) URL, or a site path for a pushed asset."""

    href: str
    name: str | None = None
    contenttype: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None  # seconds, for video and audio


class Media(Frozen):
    """What a picture, video, audio or graphic item shows: its renditions, best first."""

    type: MediaType
    renditions: list[Rendition] = Field(min_length=1)
    poster: str | None = None  # a still for video and audio (their thumbnail rendition)
    caption: str | None = None
    credit: str | None = None
    copyright: str | None = None
    alt: str | None = None

    @property
    def main(self) -> Rendition:
        return self.renditions[0]


class Contributor(Frozen):
    """An author as the newsroom's own document describes them (Superdesk's
    `authors`, ninjs `people` with rel "author"): used when the directory has no profile."""

    name: str
    role: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    uri: str | None = None


class Member(Frozen):
    """One item of a package (a composite item), in the package's order."""

    uri: str
    group: str  # the association's name: "main", "sidebars-1", ...
    type: str | None = None
    headline: str | None = None  # when the package carries the item itself


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
    version: int = Field(ge=0)  # galley's ordinal per uri (module docstring)
    slug: str
    source: str = "default"  # the newsroom source that sent it
    type: ItemType = "text"
    dialect: Dialect = "ninjs-2"
    source_version: str | None = None  # the newsroom's own version string, as sent
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
    media: Media | None = None  # a picture, video, audio or graphic item's own renditions
    members: list[Member] = Field(default_factory=list)  # a package's items
    contributors: list[Contributor] = Field(default_factory=list)
    copyright: str | None = None  # copyrightnotice, else copyrightholder
    correction: str | None = None  # shown on the page for a correction
    firstcreated: AwareDatetime | None = None
    firstpublished: AwareDatetime | None = None  # Superdesk's first publication
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
    credit: str | None = None  # the agency or service the byline credits ("dpa", "AP")
    related: list[RelatedLink] = Field(default_factory=list)
    enriched_at: AwareDatetime | None = None
    enrichment_revision: int = 0  # grows each time enrichment re-runs for this version


class PublishedArticle(EnrichedArticle):
    url: str  # path on the reader-facing site, e.g. /articles/<slug>
    # The story's own dates: published from firstpublished / firstcreated (never before it
    # became visible), modified from versioncreated; the moment publish saw them only when
    # the newsroom sent none. published_at <= modified_at always.
    published_at: AwareDatetime
    modified_at: AwareDatetime | None = None


class Asset(Frozen):
    """A media file a newsroom pushed (Superdesk's HTTP Push sends each rendition's file
    before the item), carried to the site that serves it. `content` is base64."""

    media_id: str = Field(min_length=1, max_length=200)
    mime_type: str
    size: int = Field(ge=0)
    sha256: str
    content: str  # base64 of the file's bytes
    source: str | None = None
    # when ingest kept this file: a later one under the same media id replaces it, an
    # earlier one (a redelivered old event) never does
    stored_at: AwareDatetime | None = None


class Rejection(Frozen):
    """Why an input was refused (article.rejected)."""

    reason: str
    errors: list[dict[str, Any]] = Field(default_factory=list)
    uri: str | None = None
    entry_id: str | None = None  # the input stream entry, when it came from one
    source: str | None = None
    door: Literal["http", "stream"] | None = None
    status: int | None = None  # the HTTP status it was answered with
    problem: str | None = None  # the problem type, e.g. "invalid-document"
    dialect: str | None = None  # the ninjs dialect, when the document got that far


class Submission(RootModel[dict[str, Any]]):
    """What a newsroom system puts on `newsroom.submissions`: one JSON document as its
    system wrote it (ninjs of any version, Superdesk's included, or an author profile).
    Ingest reads it as it reads the same document posted over HTTP."""
