"""Which payload model each event type carries, and on which stream."""

from __future__ import annotations

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
)

# event type -> (stream, payload model)
CATALOGUE: dict[str, tuple[str, type[BaseModel]]] = {
    names.ARTICLE_INGESTED: (names.ARTICLES_INGESTED, Article),
    names.AUTHOR_UPDATED: (names.AUTHORS_UPDATED, AuthorProfile),
    names.ASSET_STORED: (names.ASSETS_STORED, Asset),
    names.ARTICLE_REJECTED: (names.ARTICLES_REJECTED, Rejection),
    names.ARTICLE_ENRICHED: (names.ARTICLES_ENRICHED, EnrichedArticle),
    names.ARTICLE_PUBLISHED: (names.ARTICLES_PUBLISHED, PublishedArticle),
    names.ARTICLE_UPDATED: (names.ARTICLES_PUBLISHED, PublishedArticle),
    names.ARTICLE_CORRECTED: (names.ARTICLES_PUBLISHED, PublishedArticle),
    names.ARTICLE_KILLED: (names.ARTICLES_PUBLISHED, PublishedArticle),
}


def envelope_model(event_type: str) -> type[Envelope[BaseModel]]:
    """The typed envelope for an event type, e.g. Envelope[Article]."""
    model = CATALOGUE[event_type][1]
    return Envelope[model]  # type: ignore[valid-type]
