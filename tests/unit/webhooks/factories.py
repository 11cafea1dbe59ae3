"""Builders of published-article events for the webhooks tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shared import names
from shared.envelope import Envelope
from shared.models import PublishedArticle

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def article(slug: str = "seed-story", version: int = 1, **extra: Any) -> PublishedArticle:
    values: dict[str, Any] = {
        "uri": f"urn:newsroom:{slug}",
        "version": version,
        "slug": slug,
        "headline": f"{slug.replace('-', ' ').title()} (v{version})",
        "url": names.article_path(slug),
        "published_at": T0,
    }
    return PublishedArticle(**{**values, **extra})


def event(
    event_type: str = names.ARTICLE_PUBLISHED,
    slug: str = "seed-story",
    version: int = 1,
    **extra: Any,
) -> Envelope[PublishedArticle]:
    data = article(slug, version, lifecycle=_lifecycle(event_type), **extra)
    return Envelope[PublishedArticle](
        source=names.source_of(names.PUBLISH),
        type=event_type,
        subject=data.uri,
        data=data,
    )


def _lifecycle(event_type: str) -> str:
    return event_type.removeprefix("article.")


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Poll a condition until it holds or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)
