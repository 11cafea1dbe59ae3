"""Content for a running publish service, as the browser tests and `make lighthouse` use it.

The reference article with its author card and the related POW story, the budget story
and filler stories enough for more than one feed page, each with a picture. The pictures
are pushed files (`asset.stored`) the site serves itself at /media/<id>, so a page loads
nothing from outside loopback; the author's avatar is a `data:` URL for the same reason
(the site serves only the files a story shows).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from shared import names
from shared.envelope import Envelope
from shared.models import Asset, EnrichedArticle, Image
from tests.unit.publish.factories import (
    author_card,
    enriched_event,
    enriched_from_ninjs,
    seed_story,
    simple_story,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STORED_AT = datetime(2025, 2, 4, 12, 0, tzinfo=UTC)

# (kicker, headline, summary) of the filler stories, oldest first
FILLERS = [
    (
        "Energy",
        "Grid operator warns of tight winter supply",
        "Reserve margins are thin after two plants went offline for repairs, the operator said.",
    ),
    (
        "City",
        "Council approves new tram line to the harbour",
        "The 6-kilometre line is due to open in 2027 and will cost an estimated 1.2 billion.",
    ),
    (
        "Economy",
        "Central bank holds interest rate at 13.5%",
        "Policymakers cited easing inflation but warned that risks to the outlook remain high.",
    ),
    (
        "Culture",
        "National opera reopens after three-year restoration",
        "The 19th-century hall has new seats, a wider stage and restored ceiling frescoes.",
    ),
    (
        "Health",
        "Hospitals add 400 beds ahead of flu season",
        "The health ministry said the extra capacity should ease pressure on emergency wards.",
    ),
    (
        "Sport",
        "National team qualifies for the European finals",
        "A late goal in the away match secured second place in the group on goal difference.",
    ),
    (
        "Science",
        "Researchers map soil damage in liberated farmland",
        "Satellite images and field samples show where fields can be farmed again this spring.",
    ),
    (
        "Transport",
        "Rail operator restores night trains to the west",
        "Two sleeper services return next month after a pause caused by damage to the line.",
    ),
    (
        "Education",
        "Schools move exams online after power cuts",
        "About 80,000 pupils will sit the tests from home under a plan approved on Monday.",
    ),
    (
        "Environment",
        "River clean-up removes 12 tonnes of debris",
        "Volunteers worked along a 30-kilometre stretch of the river over three weekends.",
    ),
    (
        "Technology",
        "Startups raise record funding despite the war",
        "Investors put more money into local defence and software firms than in any year before.",
    ),
    (
        "Business",
        "Grain exports rise for a third month in a row",
        "Shipments through the Black Sea corridor reached their highest level since the autumn.",
    ),
]
PALETTE = ["#3b4a5a", "#5a3b4a", "#3b5a4a", "#4a4a5a", "#5a4a3b", "#2f5d7c"]


def picture(label: str, colour: str, width: int = 1200, height: int = 800) -> bytes:
    """A placeholder photo: a gradient with a label, as an SVG file."""
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" \
viewBox="0 0 {width} {height}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">\
<stop offset="0" stop-color="{colour}"/><stop offset="1" stop-color="#9aabbb"/></linearGradient>\
</defs><rect width="{width}" height="{height}" fill="url(#g)"/><text x="{width // 2}" \
y="{height // 2 + 15}" font-family="sans-serif" font-size="{height // 18}" fill="#ffffff" \
text-anchor="middle" opacity="0.85">{label}</text></svg>""".encode()


AVATAR_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" viewBox="0 0 240 240">'
    '<rect width="240" height="240" fill="#0b57d0"/><circle cx="120" cy="96" r="44" '
    'fill="#dde3ea"/><rect x="48" y="160" width="144" height="80" rx="60" fill="#dde3ea"/></svg>'
)
AVATAR_URL = "data:image/svg+xml;base64," + base64.b64encode(AVATAR_SVG.encode()).decode()


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def asset_fields(media_id: str, content: bytes, mime_type: str = "image/svg+xml") -> dict[str, Any]:
    """An `asset.stored` entry, as ingest writes it."""
    asset = Asset(
        media_id=media_id,
        mime_type=mime_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=base64.b64encode(content).decode(),
        stored_at=STORED_AT,
    )
    event = Envelope[Asset](
        source=names.source_of(names.INGEST), type=names.ASSET_STORED, subject=media_id, data=asset
    )
    return event.to_fields()


@dataclass
class Seeded:
    article: EnrichedArticle  # the reference article (newest)
    stories: list[EnrichedArticle]  # every story, in the order sent
    media: dict[str, bytes] = field(default_factory=dict)  # media id -> file

    @property
    def author_path(self) -> str:
        return names.author_path(self.article.authors[0].slug or "")


def _with_picture(
    story: EnrichedArticle, media_id: str, caption: str | None, credit: str | None = None
) -> EnrichedArticle:
    image = story.lead_image
    lead = Image(
        href=names.media_path(media_id),
        caption=caption if caption is not None else (image.caption if image else None),
        credit=credit if credit is not None else (image.credit if image else None),
        copyright=image.copyright if image else None,
        width=1200,
        height=800,
        contenttype="image/svg+xml",
    )
    return story.model_copy(update={"lead_image": lead})


def stories(
    seed_article: dict[str, Any],
    seed_author: dict[str, Any],
    seed_related: dict[str, Any],
    seed_budget: dict[str, Any],
    *,
    avatar_url: str | None = AVATAR_URL,
) -> Seeded:
    """Every story and picture of the seeded site (nothing sent yet)."""
    profile = {**seed_author, "avatar_url": avatar_url}
    card = author_card(profile)
    media: dict[str, bytes] = {}
    sent: list[EnrichedArticle] = []
    for n, (kicker, headline, blurb) in enumerate(FILLERS, 1):
        moment = datetime(2025, 1, 20, 9, 0, tzinfo=UTC) + timedelta(days=n)
        media_id = f"seed/story-{n}.svg"
        media[media_id] = picture(kicker, PALETTE[n % len(PALETTE)])
        story = simple_story(
            n,
            headline=headline,
            slug=f"story-number-{n}",
            subjects=[kicker],
            body_html=f"<p>{blurb}</p><p>More details followed later in the day.</p>",
            body_text=f"{blurb} More details followed later in the day.",
            word_count=len(blurb.split()) + 7,
            firstcreated=moment,
            versioncreated=moment,
        )
        sent.append(_with_picture(story, media_id, f"{kicker}: a picture for the story."))
    media["seed/pow.svg"] = picture("Kursk Oblast", "#4a5a3b")
    related = enriched_from_ninjs(seed_related, authors=[card])
    sent.append(_with_picture(related, "seed/pow.svg", "A Ukrainian soldier near the border."))
    media["seed/budget.svg"] = picture("Budget", "#5a4a3b")
    sent.append(
        _with_picture(enriched_from_ninjs(seed_budget), "seed/budget.svg", "The parliament.")
    )
    media["seed/lead.svg"] = picture("Lead photo", "#3b4a5a")
    article = seed_story(seed_article, profile, seed_related)
    article = _with_picture(article, "seed/lead.svg", None)
    sent.append(article)
    return Seeded(article, sent, media)


async def send(redis: Any, seeded: Seeded) -> None:
    """The pictures on `assets.stored`, then the stories on `articles.enriched`."""
    for media_id, content in seeded.media.items():
        await redis.xadd(names.ASSETS_STORED, asset_fields(media_id, content))
    for story in seeded.stories:
        await redis.xadd(names.ARTICLES_ENRICHED, enriched_event(story).to_fields())


async def wait_until_served(site_url: str, seeded: Seeded, timeout: float = 30.0) -> None:
    """Until the article page and every picture answer 200 (both streams are read)."""
    paths = [names.article_path(seeded.article.slug), *map(names.media_path, seeded.media)]
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(base_url=site_url, timeout=5) as client:
        for path in paths:
            while (await client.get(path)).status_code != 200:
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"{site_url}{path} never appeared")
                await asyncio.sleep(0.05)


async def seed_site(redis: Any, site_url: str, *, avatar_url: str | None = AVATAR_URL) -> Seeded:
    """Seed the service at `site_url` through `redis` and wait until it shows everything."""
    seeded = stories(
        load_fixture("article.json"),
        load_fixture("author-martin-fornusek.json"),
        load_fixture("related-pow.json"),
        load_fixture("feed-budget.json"),
        avatar_url=avatar_url,
    )
    await send(redis, seeded)
    await wait_until_served(site_url, seeded)
    return seeded
