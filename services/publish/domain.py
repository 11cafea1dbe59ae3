"""Publishing decisions: pure functions, the clock passed in.

An article's state on the site is one `State` per uri. `receive` applies an
enriched version to it and `release` makes a held (embargoed or scheduled)
version visible once its time has come. Both return an `Outcome`: the new
state and the event to emit, if any; `None` means "nothing to do".

Dates are the story's own: `published_date` (fixed at the first go-live and kept
in `State.published_at`, the feed order) and `modified_date` (this version's).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from shared import names
from shared.models import EnrichedArticle, Member, PublishedArticle


@dataclass(frozen=True)
class State:
    """What the site knows about one uri."""

    uri: str
    version: int
    revision: int
    live: PublishedArticle | None = None  # the version readers see, if any
    held: EnrichedArticle | None = None  # a newer version waiting for its time
    killed: bool = False
    published_at: datetime | None = None  # the story's own publication date: the feed order

    @property
    def key(self) -> tuple[int, int]:
        return (self.version, self.revision)

    @property
    def due_at(self) -> datetime | None:
        return self.held.visible_from if self.held is not None else None


@dataclass(frozen=True)
class Outcome:
    state: State
    event_type: str | None = None
    payload: PublishedArticle | None = None


def _key(article: EnrichedArticle) -> tuple[int, int]:
    return (article.version, article.enrichment_revision)


def is_due(article: EnrichedArticle, now: datetime) -> bool:
    visible_from = article.visible_from
    return visible_from is None or visible_from <= now


# --- the story's own dates ------------------------------------------------------------

# A modification closer than this to the publication is the publication itself.
UPDATE_THRESHOLD = timedelta(minutes=1)


def published_date(article: EnrichedArticle, now: datetime) -> datetime:
    """The story's own first publication, as decided when it first goes live at `now`.

    The newsroom's `firstpublished`, else `firstcreated`, else (a document dated only by
    its version) `versioncreated`; never before the version became visible (embargo,
    schedule), never in the future; `now` when it sent no date at all.
    """
    original = article.firstpublished or article.firstcreated or article.versioncreated
    if original is None:
        return now
    visible_from = article.visible_from
    if visible_from is not None:
        original = max(original, visible_from)
    return min(original, now)


def modified_date(article: EnrichedArticle, published_at: datetime, now: datetime) -> datetime:
    """This version's modification: `versioncreated`, else `now` (when publish took it);
    never before the publication and never in the future."""
    modified = min(article.versioncreated or now, now)
    return max(modified, published_at)


def is_updated(published_at: datetime, modified_at: datetime | None) -> bool:
    """Worth an "Updated" line: modified more than a minute after publication."""
    return modified_at is not None and modified_at - published_at > UPDATE_THRESHOLD


def to_published(
    article: EnrichedArticle, published_at: datetime, modified_at: datetime | None = None
) -> PublishedArticle:
    """The reader-facing shape; `modified_at` defaults to, and never precedes, `published_at`."""
    fields = article.model_dump()
    modified = max(modified_at or published_at, published_at)
    return PublishedArticle(
        **fields,
        url=names.article_path(article.slug),
        published_at=published_at,
        modified_at=modified,
    )


def receive(state: State | None, article: EnrichedArticle, now: datetime) -> Outcome | None:
    """Apply an enriched version; None when it is not newer than what is stored."""
    if state is not None and _key(article) <= state.key:
        return None
    base = state or State(
        uri=article.uri, version=article.version, revision=article.enrichment_revision
    )
    base = replace(base, version=article.version, revision=article.enrichment_revision)
    if article.lifecycle == "killed":
        return _kill(base, article, now)
    if not is_due(article, now):
        return Outcome(replace(base, held=article))
    return _go_live(replace(base, held=None), article, now)


def release(state: State, now: datetime) -> Outcome | None:
    """Make the held version visible if its time has come."""
    if state.held is None or not is_due(state.held, now):
        return None
    return _go_live(replace(state, held=None), state.held, now)


def _go_live(state: State, article: EnrichedArticle, now: datetime) -> Outcome:
    published_at = state.published_at or published_date(article, now)
    live = state.live
    if (
        live is not None
        and live.version == article.version
        and article.versioncreated is None
        and live.modified_at is not None
    ):
        modified_at = max(live.modified_at, published_at)  # re-enriched: the same version
    else:
        modified_at = modified_date(article, published_at, now)
    payload = to_published(article, published_at, modified_at)
    if state.live is None:
        event_type = names.ARTICLE_PUBLISHED
    elif article.lifecycle == "corrected":
        event_type = names.ARTICLE_CORRECTED
    else:
        event_type = names.ARTICLE_UPDATED
    new = replace(state, live=payload, killed=False, published_at=published_at)
    return Outcome(new, event_type, payload)


def _kill(state: State, article: EnrichedArticle, now: datetime) -> Outcome:
    was_visible = state.live is not None
    new = replace(state, live=None, held=None, killed=True)
    if not was_visible:
        return Outcome(new)
    published_at = state.published_at or now
    payload = to_published(article, published_at, modified_date(article, published_at, now))
    return Outcome(new, names.ARTICLE_KILLED, payload)


# --- packages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageLink:
    """A package member as the package page lists it: linked when it is live."""

    member: Member
    article: PublishedArticle | None = None

    @property
    def headline(self) -> str:
        return self.article.headline if self.article else (self.member.headline or "")

    @property
    def url(self) -> str | None:
        return self.article.url if self.article else None


@dataclass(frozen=True)
class Package:
    """A composite item resolved against what is live: its main item and the others."""

    main: PublishedArticle | None
    links: list[PackageLink]


def is_main_group(group: str) -> bool:
    return group.strip().lower().startswith("main")


def resolve_package(package: EnrichedArticle, live: Mapping[str, PublishedArticle]) -> Package:
    """The main item (group "main..." else the first member) and the other members, in
    the package's order, among the live ones; members not live are left out.

    With no member live and no body of its own, the members that carry a headline are
    listed without links, so the page still says what the package holds.
    """
    seen: set[str] = {package.uri}
    members: list[Member] = []
    for member in package.members:
        if member.uri not in seen:
            seen.add(member.uri)
            members.append(member)
    present = [m for m in members if m.uri in live]
    own_body = bool(package.body_html.strip())
    if not present:
        if own_body:
            return Package(None, [])
        return Package(None, [PackageLink(m) for m in members if m.headline])
    main = next((m for m in present if is_main_group(m.group)), present[0])
    main_article = live[main.uri]
    links = [PackageLink(m, live[m.uri]) for m in present if m is not main]
    if own_body and main_article.media is None:
        links.insert(0, PackageLink(main, main_article))  # its body is not on the page
    return Package(main_article, links)


# --- feed cursors ------------------------------------------------------------


class CursorError(ValueError):
    """A `?after=` value that is not a cursor this site handed out."""


@dataclass(frozen=True, order=True)
class Cursor:
    """Keyset position in a feed ordered by (published_at, uri) descending."""

    published_at: str
    uri: str

    def encode(self) -> str:
        raw = json.dumps([self.published_at, self.uri], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        if not token or len(token) > 2000:
            raise CursorError("the cursor is empty or too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            value = json.loads(raw)
        except (binascii.Error, ValueError) as exc:
            raise CursorError("the cursor is not a token this site handed out") from exc
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, str) for v in value)
        ):
            raise CursorError("the cursor is not a token this site handed out")
        return cls(value[0], value[1])


def sort_key(moment: datetime) -> str:
    """A fixed-width UTC timestamp that sorts as text in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_sort_key(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def w3c_datetime(key: str) -> str:
    """A sort key as a W3C datetime to the second (a sitemap's lastmod), without parsing:
    `2025-02-04T08:12:00.000000Z` -> `2025-02-04T08:12:00Z`."""
    return key[:19] + "Z"


# --- small helpers -------------------------------------------------------------


def news_sitemap_window(now: datetime) -> datetime:
    """Google News sitemaps list only articles published in the last two days."""
    return now - timedelta(days=2)


def reading_time(minutes: int) -> str:
    """English, for machine formats (the pages use `i18n.reading_time`)."""
    return f"{max(1, minutes)} min read"
