"""Publishing decisions: pure functions, the clock passed in.

An article's state on the site is one `State` per uri. `receive` applies an
enriched version to it and `release` makes a held (embargoed or scheduled)
version visible once its time has come. Both return an `Outcome`: the new
state and the event to emit, if any; `None` means "nothing to do".
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from anyascii import anyascii

from shared import names
from shared.models import EnrichedArticle, PublishedArticle


@dataclass(frozen=True)
class State:
    """What the site knows about one uri."""

    uri: str
    version: int
    revision: int
    live: PublishedArticle | None = None  # the version readers see, if any
    held: EnrichedArticle | None = None  # a newer version waiting for its time
    killed: bool = False
    published_at: datetime | None = None  # first moment it was visible: the feed order

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


def to_published(article: EnrichedArticle, published_at: datetime) -> PublishedArticle:
    fields = article.model_dump()
    return PublishedArticle(**fields, url=names.article_path(article.slug),
                            published_at=published_at)


def receive(state: State | None, article: EnrichedArticle, now: datetime) -> Outcome | None:
    """Apply an enriched version; None when it is not newer than what is stored."""
    if state is not None and _key(article) <= state.key:
        return None
    base = state or State(uri=article.uri, version=article.version,
                          revision=article.enrichment_revision)
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
    published_at = state.published_at or now
    payload = to_published(article, published_at)
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
    payload = to_published(article, state.published_at or now)
    return Outcome(new, names.ARTICLE_KILLED, payload)


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
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, str) for v in value)):
            raise CursorError("the cursor is not a token this site handed out")
        return cls(value[0], value[1])


def sort_key(moment: datetime) -> str:
    """A fixed-width UTC timestamp that sorts as text in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_sort_key(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# --- small helpers -------------------------------------------------------------

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """`Kursk Oblast` -> `kursk-oblast` (ASCII, lower case, dashes)."""
    return _NON_WORD.sub("-", anyascii(text).lower()).strip("-")[:120]


def news_sitemap_window(now: datetime) -> datetime:
    """Google News sitemaps list only articles published in the last two days."""
    return now - timedelta(days=2)


def reading_time(minutes: int) -> str:
    return f"{max(1, minutes)} min read"
