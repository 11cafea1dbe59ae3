"""The event catalogue: every event type galley knows, the stream it travels on, the
payload model it carries, who writes it and which consumer groups read it.

It is the one place that says so: the outbox takes an event's stream from here
(`stream_of`), each consumer's routes are checked against it (`routes_for`), and the
JSON Schemas and the AsyncAPI document are written from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shared import names
from shared.envelope import Envelope
from shared.models import (
    Article,
    Asset,
    AuthorProfile,
    EnrichedArticle,
    PublishedArticle,
    Rejection,
    Submission,
)

NEWSROOM = "newsroom"  # the producer of the input stream: any newsroom system


@dataclass(frozen=True)
class EventType:
    """One event type: where it goes, what it carries, who writes and who reads it."""

    name: str
    stream: str
    model: type[BaseModel]
    producer: str  # a galley service, or NEWSROOM
    groups: tuple[str, ...]  # the consumer groups that read it (subscribers come on top)
    summary: str
    aliases: tuple[str, ...] = ()  # other `type` values producers may write for it


_TYPES = (
    EventType(
        names.ARTICLE_SUBMITTED,
        names.NEWSROOM_SUBMISSIONS,
        Submission,
        NEWSROOM,
        (names.INGEST_GROUP,),
        "A newsroom system submits a news item (ninjs 1.x, 2.x or 3.x) for publication.",
        aliases=("article",),
    ),
    EventType(
        names.AUTHOR_SUBMITTED,
        names.NEWSROOM_SUBMISSIONS,
        Submission,
        NEWSROOM,
        (names.INGEST_GROUP,),
        "A newsroom system submits an author profile.",
        aliases=("author",),
    ),
    EventType(
        names.ARTICLE_INGESTED,
        names.ARTICLES_INGESTED,
        Article,
        names.INGEST,
        (names.ENRICHMENT_GROUP,),
        "Ingest accepted a version of an article (validated, sanitized, versioned).",
    ),
    EventType(
        names.AUTHOR_UPDATED,
        names.AUTHORS_UPDATED,
        AuthorProfile,
        names.INGEST,
        (names.ENRICHMENT_GROUP,),
        "An author profile was created or changed.",
    ),
    EventType(
        names.ASSET_STORED,
        names.ASSETS_STORED,
        Asset,
        names.INGEST,
        (names.PUBLISH_GROUP,),
        "Ingest kept a media file a newsroom pushed; the site serves it.",
    ),
    EventType(
        names.ARTICLE_REJECTED,
        names.ARTICLES_REJECTED,
        Rejection,
        names.INGEST,
        (),
        "Ingest refused a submission, and says why (read by operators' tools).",
    ),
    EventType(
        names.ARTICLE_ENRICHED,
        names.ARTICLES_ENRICHED,
        EnrichedArticle,
        names.ENRICHMENT,
        (names.PUBLISH_GROUP,),
        "An article with author cards, related links, word count and reading time.",
    ),
    *(
        EventType(
            event_type,
            names.ARTICLES_PUBLISHED,
            PublishedArticle,
            names.PUBLISH,
            (names.WEBHOOKS_GROUP,),
            summary,
        )
        for event_type, summary in (
            (names.ARTICLE_PUBLISHED, "An article went live on the site for the first time."),
            (names.ARTICLE_UPDATED, "A live article changed."),
            (names.ARTICLE_CORRECTED, "A live article was corrected."),
            (names.ARTICLE_KILLED, "An article was withdrawn from the site."),
        )
    ),
)

CATALOGUE: dict[str, EventType] = {event.name: event for event in _TYPES}


class UnknownEventType(KeyError):
    """An event type the catalogue does not list."""


def event_type(name: str) -> EventType:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownEventType(
            f"{name!r} is not in the event catalogue (shared/events.py)"
        ) from None


def stream_of(name: str) -> str:
    """The stream an event of this type is appended to."""
    return event_type(name).stream


def streams() -> list[str]:
    """Every stream of the catalogue, in its order."""
    return list(dict.fromkeys(event.stream for event in _TYPES))


def on_stream(stream: str) -> list[EventType]:
    return [event for event in _TYPES if event.stream == stream]


def read_by(group: str) -> dict[str, list[EventType]]:
    """The streams a consumer group reads, with the event types it handles on each."""
    found: dict[str, list[EventType]] = {}
    for event in _TYPES:
        if group in event.groups:
            found.setdefault(event.stream, []).append(event)
    return found


def new_event(
    name: str, data: BaseModel, *, subject: str | None, time: datetime | None = None
) -> Envelope[Any]:
    """An event of a catalogued type as its producer emits it: the envelope's payload model
    and the CloudEvents `source` come from the catalogue (`time` defaults to now)."""
    event = event_type(name)
    if event.producer == NEWSROOM:
        raise ValueError(f"{name} is written by newsroom systems, not by galley")
    fields: dict[str, Any] = {
        "source": names.source_of(event.producer),
        "type": name,
        "subject": subject,
        "data": data,
    }
    if time is not None:
        fields["time"] = time
    return envelope_model(name)(**fields)


def envelope_model(name: str) -> type[Envelope[Any]]:
    """The typed envelope for an event type, e.g. Envelope[Article]."""
    model = event_type(name).model
    return Envelope[model]  # type: ignore[valid-type]
