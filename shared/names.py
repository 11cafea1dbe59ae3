"""Stream, group, event-type and source names: spelled here and nowhere else."""

from __future__ import annotations

from typing import Final

# --- streams -------------------------------------------------------------
NEWSROOM_SUBMISSIONS: Final = "newsroom.submissions"  # input door for newsroom systems
ARTICLES_INGESTED: Final = "articles.ingested"  # ingest -> enrichment
AUTHORS_UPDATED: Final = "authors.updated"  # ingest -> enrichment
ARTICLES_REJECTED: Final = "articles.rejected"  # ingest -> anyone who cares
ARTICLES_ENRICHED: Final = "articles.enriched"  # enrichment -> publish
ARTICLES_PUBLISHED: Final = "articles.published"  # publish -> downstream subscribers
ASSETS_STORED: Final = "assets.stored"  # ingest -> publish: media files the newsroom pushed


def dead_letter_stream(service: str) -> str:
    """Each service parks poison entries in its own dead-letter stream."""
    return f"dlq.{service}"


# --- consumer groups -----------------------------------------------------
INGEST_GROUP: Final = "ingest"
ENRICHMENT_GROUP: Final = "enrichment"
PUBLISH_GROUP: Final = "publish"
WEBHOOKS_GROUP: Final = "webhooks"

# --- services (CloudEvents `source`) ---------------------------------------
INGEST: Final = "ingest"
ENRICHMENT: Final = "enrichment"
PUBLISH: Final = "publish"
WEBHOOKS: Final = "webhooks"


def source_of(service: str) -> str:
    return f"/galley/{service}"


# --- event types -----------------------------------------------------------
ARTICLE_SUBMITTED: Final = "article.submitted"  # on newsroom.submissions
AUTHOR_SUBMITTED: Final = "author.submitted"  # on newsroom.submissions
ARTICLE_INGESTED: Final = "article.ingested"
ARTICLE_REJECTED: Final = "article.rejected"
AUTHOR_UPDATED: Final = "author.updated"
ASSET_STORED: Final = "asset.stored"
ARTICLE_ENRICHED: Final = "article.enriched"
ARTICLE_PUBLISHED: Final = "article.published"
ARTICLE_UPDATED: Final = "article.updated"
ARTICLE_CORRECTED: Final = "article.corrected"
ARTICLE_KILLED: Final = "article.killed"

PUBLISHED_EVENT_TYPES: Final = (
    ARTICLE_PUBLISHED,
    ARTICLE_UPDATED,
    ARTICLE_CORRECTED,
    ARTICLE_KILLED,
)


# --- reader-facing paths ---------------------------------------------------
def article_path(slug: str) -> str:
    return f"/articles/{slug}"


def author_path(slug: str) -> str:
    return f"/authors/{slug}"


def media_path(media_id: str) -> str:
    """Where the site serves a media file the newsroom pushed (by its media id)."""
    return f"/media/{media_id}"
