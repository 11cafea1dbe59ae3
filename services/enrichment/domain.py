"""Enrichment decisions as pure functions: author cards, credit, related links, revisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.enrichment import bylines
from services.enrichment.bylines import Directory, fold
from services.enrichment.related import Doc, RelatedIndex
from shared.models import Article, AuthorCard, EnrichedArticle, RelatedLink
from shared.names import article_path

DEFAULT_K = 5
MAX_K = 50


def is_killed(article: Article) -> bool:
    """Killed, withheld or canceled: never shown, never linked."""
    return article.lifecycle == "killed" or article.pubstatus != "usable"


def doc_of(article: Article) -> Doc:
    """What the related-links index knows of an article."""
    return Doc(
        uri=article.uri,
        slug=article.slug,
        headline=article.headline,
        subheadline=article.subheadline or "",
        body=article.body_text,
        subjects=tuple(article.subjects),
        published=article.firstcreated or article.versioncreated,
        visible_from=article.visible_from,
        killed=is_killed(article),
        language=article.language,
    )


def authors_of(article: Article) -> bylines.Authors:
    """The authors: the document's structured authors (contributors, author names) first;
    only when it has none, the person names of the byline text."""
    return bylines.authors_of(
        article.author_names,
        article.byline,
        contributors=article.contributors,
        language=article.language,
    )


def names_of(article: Article) -> list[str]:
    """The authors' names (`authors_of`)."""
    return authors_of(article).names


def author_cards(article: Article, directory: Directory) -> list[AuthorCard]:
    """A card per author: the directory's profile when it has one, else what the document
    says of the author (its contributors: role, bio, avatar), else the name alone."""
    return _cards(authors_of(article), directory)


def _cards(authors: bylines.Authors, directory: Directory) -> list[AuthorCard]:
    return bylines.author_cards(authors.names, directory, authors.described)


def related_links(
    article: Article, index: RelatedIndex, *, now: datetime, k: int = DEFAULT_K
) -> list[RelatedLink]:
    """Editor-pinned links first (if linkable), then computed ones unless opted out."""
    links = [
        _pinned(uri, index)
        for uri in dict.fromkeys(article.pinned_related)
        if uri != article.uri and index.eligible(uri, now)
    ]
    if article.related_opt_out or len(links) >= k:
        return links
    found = index.search(
        doc_of(article), now=now, k=k - len(links), exclude=[link.uri for link in links]
    )
    return links + [
        RelatedLink(
            uri=s.uri,
            slug=s.slug,
            headline=s.headline,
            url=article_path(s.slug),
            score=round(s.score, 4),
            matched_terms=list(s.matched_terms),
        )
        for s in found
    ]


def _pinned(uri: str, index: RelatedIndex) -> RelatedLink:
    slug, headline = index.get(uri) or ("", "")
    return RelatedLink(uri=uri, slug=slug, headline=headline, url=article_path(slug), pinned=True)


def _with(article: Article, **changes: Any) -> EnrichedArticle:
    base = article.model_dump(exclude=set(EnrichedArticle.model_fields) - set(Article.model_fields))
    return EnrichedArticle.model_validate({**base, **changes})


def enrich(
    article: Article,
    *,
    directory: Directory,
    index: RelatedIndex,
    now: datetime,
    k: int = DEFAULT_K,
) -> EnrichedArticle:
    """The first enrichment of an article version (revision 0)."""
    if is_killed(article):
        return _with(
            article, authors=[], credit=None, related=[], enriched_at=now, enrichment_revision=0
        )
    authors = authors_of(article)
    return _with(
        article,
        authors=_cards(authors, directory),
        credit=authors.credit,
        related=related_links(article, index, now=now, k=k),
        enriched_at=now,
        enrichment_revision=0,
    )


def with_fresh_authors(
    enriched: EnrichedArticle, directory: Directory, now: datetime
) -> EnrichedArticle | None:
    """The next revision with current author cards (the credit stays), or None when
    nothing changed."""
    cards = author_cards(enriched, directory)
    if is_killed(enriched) or cards == enriched.authors:
        return None
    return _next(enriched, now, authors=cards)


def with_fresh_related(
    enriched: EnrichedArticle, index: RelatedIndex, now: datetime, k: int = DEFAULT_K
) -> EnrichedArticle | None:
    """The next revision with related links recomputed, or None when nothing changed."""
    links = related_links(enriched, index, now=now, k=max(k, len(enriched.related)))
    if is_killed(enriched) or links == enriched.related:
        return None
    return _next(enriched, now, related=links)


def _next(enriched: EnrichedArticle, now: datetime, **changes: Any) -> EnrichedArticle:
    return enriched.model_copy(
        update={
            **changes,
            "enriched_at": now,
            "enrichment_revision": enriched.enrichment_revision + 1,
        }
    )


def unknown_authors(cards: list[AuthorCard]) -> list[str]:
    return [c.name for c in cards if c.slug is None]


def name_rows(enriched: EnrichedArticle) -> list[tuple[str, str, str | None]]:
    """(folded name, name as written, directory slug or None) per byline author."""
    return [(fold(c.name), c.name, c.slug) for c in enriched.authors]
