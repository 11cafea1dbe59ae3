"""Test data builders: enriched articles as enrichment would emit them, from seed ninjs."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any

from shared import names
from shared.envelope import Envelope
from shared.models import (
    AuthorCard,
    EnrichedArticle,
    Image,
    Media,
    Member,
    RelatedLink,
    Rendition,
)

_TAG = re.compile(r"<[^>]+>")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def slug_of(headline: str) -> str:
    return _NON_WORD.sub("-", headline.lower().replace("'", "")).strip("-")[:120]


def _main(items: list[dict[str, Any]], default: str = "") -> str:
    for item in items:
        if item.get("role", "main") == "main":
            return str(item["value"])
    return default


def _lead_image(ninjs: dict[str, Any]) -> Image | None:
    for assoc in ninjs.get("associations", []):
        if assoc.get("name") == "featuremedia":
            rendition = assoc["renditions"][0]
            caption = next(
                (d["value"] for d in assoc.get("descriptions", []) if d.get("role") == "caption"),
                None,
            )
            return Image(
                href=rendition["href"],
                caption=caption,
                credit=assoc.get("by"),
                width=rendition.get("width"),
                height=rendition.get("height"),
                contenttype=rendition.get("contenttype"),
                copyright=assoc.get("copyrightnotice"),
            )
    return None


def enriched_from_ninjs(ninjs: dict[str, Any], **changes: Any) -> EnrichedArticle:
    """What enrichment emits for a seed ninjs document (no author cards unless given)."""
    body_html = _main(ninjs.get("bodies", []))
    body_text = " ".join(_TAG.sub(" ", body_html).split())
    words = len(body_text.split())
    headline = _main(ninjs["headlines"])
    fields: dict[str, Any] = {
        "uri": ninjs["uri"],
        "version": int(ninjs.get("version", 1)),
        "slug": slug_of(headline),
        "language": ninjs.get("language"),
        "headline": headline,
        "byline": ninjs.get("by"),
        "author_names": [p["name"] for p in ninjs.get("people", []) if p.get("rel") == "author"],
        "subjects": [s["name"] for s in ninjs.get("subjects", [])],
        "genres": [g["name"] for g in ninjs.get("genres", [])],
        "body_html": body_html,
        "body_text": body_text,
        "word_count": words,
        "reading_minutes": max(1, math.ceil(words / 230)),
        "lead_image": _lead_image(ninjs),
        "firstcreated": datetime.fromisoformat(ninjs["firstcreated"]),
        "versioncreated": datetime.fromisoformat(ninjs["versioncreated"]),
        "ninjs": ninjs,
    }
    fields.update(changes)
    return EnrichedArticle(**fields)


def author_card(profile: dict[str, Any]) -> AuthorCard:
    return AuthorCard(
        name=profile["name"],
        slug=profile["slug"],
        role=profile.get("role"),
        bio=profile.get("bio"),
        avatar_url=profile.get("avatar_url"),
        url=names.author_path(profile["slug"]),
    )


def related_link(article: EnrichedArticle) -> RelatedLink:
    return RelatedLink(
        uri=article.uri,
        slug=article.slug,
        headline=article.headline,
        url=names.article_path(article.slug),
        score=0.8,
    )


def seed_story(
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
    **changes: Any,
) -> EnrichedArticle:
    """The reference article with its author card and the related POW story."""
    pow_story = enriched_from_ninjs(seed_related, authors=[author_card(seed_author)])
    fields: dict[str, Any] = {
        "authors": [author_card(seed_author)],
        "related": [related_link(pow_story)],
    }
    fields.update(changes)
    return enriched_from_ninjs(seed_article, **fields)


def simple_story(n: int, **changes: Any) -> EnrichedArticle:
    """A short filler story, unique per `n`."""
    fields: dict[str, Any] = {
        "uri": f"urn:test:story:{n}",
        "version": 1,
        "slug": f"story-number-{n}",
        "headline": f"Story number {n} about the city council",
        "language": "en",
        "subjects": ["City", "Politics"],
        "body_html": f"<p>Body of story {n}.</p>",
        "body_text": f"Body of story {n}.",
        "word_count": 4,
        "reading_minutes": 1,
        "authors": [
            AuthorCard(
                name="Desk Writer",
                slug="desk-writer",
                role="Reporter",
                url=names.author_path("desk-writer"),
            )
        ],
    }
    fields.update(changes)
    return EnrichedArticle(**fields)


def _media_item(n: int, kind: str, media: Media, **changes: Any) -> EnrichedArticle:
    fields: dict[str, Any] = {
        "uri": f"urn:test:{kind}:{n}",
        "version": 1,
        "slug": f"{kind}-number-{n}",
        "type": kind,
        "headline": f"{kind.capitalize()} number {n} of the harbour",
        "language": "en",
        "subjects": ["City"],
        "body_html": "",
        "body_text": "",
        "word_count": 0,
        "reading_minutes": 1,
        "media": media,
        "byline": "Kari Nordmann",
    }
    fields.update(changes)
    return EnrichedArticle(**fields)


def picture_item(n: int, *, media: dict[str, Any] | None = None, **changes: Any) -> EnrichedArticle:
    """A picture item shown from a pushed file (a site path) with a smaller web copy."""
    shown = Media(
        type="picture",
        renditions=[
            Rendition(
                href=f"/media/picture-{n}-large.jpg",
                name="baseImage",
                contenttype="image/jpeg",
                width=1600,
                height=1067,
            ),
            Rendition(
                href=f"https://images.example.org/picture-{n}-thumb.jpg",
                name="thumbnail",
                contenttype="image/jpeg",
                width=240,
                height=160,
            ),
        ],
        caption=f"Boats in the harbour at dawn, number {n}.",
        credit="NTB / Ola Fotograf",
        copyright="© NTB 2025",
    ).model_dump()
    shown.update(media or {})
    return _media_item(n, "picture", Media(**shown), **changes)


def graphic_item(n: int, **changes: Any) -> EnrichedArticle:
    media = Media(
        type="graphic",
        renditions=[
            Rendition(
                href=f"/media/graphic-{n}.png", contenttype="image/png", width=1200, height=900
            )
        ],
        caption="How the budget is spent.",
        credit="Galley Graphics",
        alt="A bar chart of the budget by ministry",
    )
    return _media_item(n, "graphic", media, **changes)


def video_item(n: int, **changes: Any) -> EnrichedArticle:
    """A video with an MP4 and a WebM file (one pushed), a poster and a caption."""
    media = Media(
        type="video",
        renditions=[
            Rendition(
                href=f"/media/video-{n}.mp4",
                name="mp4",
                contenttype="video/mp4",
                width=1280,
                height=720,
                duration=95.0,
            ),
            Rendition(
                href=f"https://video.example.org/video-{n}.webm",
                name="webm",
                contenttype="video/webm",
                width=1280,
                height=720,
                duration=95.0,
            ),
        ],
        poster=f"/media/video-{n}-poster.jpg",
        caption="The ferry leaves the harbour.",
        credit="Reuters TV",
        copyright="© Reuters 2025",
    )
    return _media_item(n, "video", media, **changes)


def audio_item(n: int, **changes: Any) -> EnrichedArticle:
    media = Media(
        type="audio",
        renditions=[
            Rendition(
                href=f"/media/audio-{n}.mp3", name="mp3", contenttype="audio/mpeg", duration=312.0
            ),
            Rendition(
                href=f"https://audio.example.org/audio-{n}.ogg",
                name="ogg",
                contenttype="audio/ogg",
                duration=312.0,
            ),
        ],
        caption="The harbour master on the night shift.",
        credit="Galley Radio",
    )
    return _media_item(n, "audio", media, **changes)


def member(article: EnrichedArticle, group: str, *, headline: bool = True) -> Member:
    """A package's reference to `article`, carrying its headline unless told not to."""
    return Member(
        uri=article.uri,
        group=group,
        type=article.type,
        headline=article.headline if headline else None,
    )


def package_item(n: int, members: list[Member], **changes: Any) -> EnrichedArticle:
    """A composite item (a package) with no body of its own unless given one."""
    fields: dict[str, Any] = {
        "uri": f"urn:test:package:{n}",
        "version": 1,
        "slug": f"package-number-{n}",
        "type": "composite",
        "headline": f"Package number {n}: the harbour in winter",
        "language": "en",
        "subjects": ["City"],
        "members": members,
        "body_html": "",
        "body_text": "",
        "word_count": 0,
        "reading_minutes": 1,
    }
    fields.update(changes)
    return EnrichedArticle(**fields)


def enriched_event(article: EnrichedArticle, **attrs: Any) -> Envelope[EnrichedArticle]:
    return Envelope[EnrichedArticle](
        source=names.source_of(names.ENRICHMENT),
        type=names.ARTICLE_ENRICHED,
        subject=article.uri,
        data=article,
        **attrs,
    )


class Clock:
    """A settable clock for tests."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
