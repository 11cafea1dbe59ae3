"""Synthetic newsroom copy: articles on a few hundred topics, made from generated words.

Each topic has its own vocabulary, so the related-links index finds real
neighbours among stories of the same topic, as it would in a newsroom archive.
Nothing here reads real data; the same seed always gives the same articles.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared import names
from shared.envelope import Envelope
from shared.models import Article

SYLLABLES = (
    "ka",
    "lo",
    "mer",
    "tis",
    "an",
    "dru",
    "vel",
    "son",
    "pra",
    "ni",
    "gor",
    "est",
    "ul",
    "bri",
    "ten",
    "ma",
    "ros",
    "chi",
    "de",
    "fal",
    "quo",
    "ren",
    "sa",
    "tor",
)
COMMON = (
    "the",
    "a",
    "of",
    "and",
    "in",
    "to",
    "said",
    "on",
    "for",
    "with",
    "after",
    "that",
    "was",
    "by",
    "from",
    "officials",
    "report",
    "week",
    "city",
    "government",
    "people",
)
SUBJECTS = ("Politics", "Economy", "Health", "Climate", "Sport", "Culture", "Science", "World")
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


@dataclass(frozen=True)
class Topic:
    words: tuple[str, ...]
    subject: str


class Newsroom:
    """Deterministic article text: `story(i)` is always the same story."""

    def __init__(self, seed: int = 7, topics: int = 400, words_per_topic: int = 40) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self.general = tuple(_word(rng) for _ in range(3000))
        self.topics = tuple(
            Topic(tuple(_word(rng) for _ in range(words_per_topic)), rng.choice(SUBJECTS))
            for _ in range(topics)
        )
        self.authors = tuple(f"{_word(rng).title()} {_word(rng).title()}" for _ in range(60))

    def _sentence(self, rng: random.Random, topic: Topic) -> str:
        words = [
            rng.choice(topic.words)
            if rng.random() < 0.3
            else rng.choice(COMMON)
            if rng.random() < 0.5
            else rng.choice(self.general)
            for _ in range(rng.randint(10, 20))
        ]
        return " ".join(words).capitalize() + "."

    def story(self, i: int, prefix: str = "bench") -> dict[str, Any]:
        """The raw parts of story i: uri, headline, paragraphs, byline, subject, time."""
        rng = random.Random(self.seed * 1_000_003 + i)
        topic = self.topics[rng.randrange(len(self.topics))]
        headline = " ".join(rng.choice(topic.words) for _ in range(6)).capitalize()
        paragraphs = [" ".join(self._sentence(rng, topic) for _ in range(3)) for _ in range(6)]
        return {
            "uri": f"urn:galley:{prefix}:{i}",
            "headline": f"{headline} {i}",
            "paragraphs": paragraphs,
            "byline": rng.choice(self.authors),
            "subject": topic.subject,
            "when": EPOCH + timedelta(minutes=i),
        }

    def ninjs(self, i: int, prefix: str = "bench") -> dict[str, Any]:
        """Story i as a ninjs 2.x document, as a newsroom system submits it to ingest."""
        s = self.story(i, prefix)
        when = s["when"].isoformat()
        return {
            "uri": s["uri"],
            "type": "text",
            "version": "1",
            "pubstatus": "usable",
            "language": "en",
            "firstcreated": when,
            "versioncreated": when,
            "headlines": [{"role": "main", "value": s["headline"]}],
            "by": s["byline"],
            "people": [{"name": s["byline"], "rel": "author"}],
            "subjects": [{"name": s["subject"]}],
            "bodies": [
                {
                    "role": "main",
                    "contenttype": "text/html",
                    "value": "".join(f"<p>{p}</p>" for p in s["paragraphs"]),
                }
            ],
        }

    def article(self, i: int, prefix: str = "archive") -> Article:
        """Story i as ingest's normalized output (for writing to articles.ingested)."""
        s = self.story(i, prefix)
        text = "\n\n".join(s["paragraphs"])
        words = len(text.split())
        return Article(
            uri=s["uri"],
            version=1,
            slug=f"{prefix}-{i}",
            source="bench",
            language="en",
            headline=s["headline"],
            byline=s["byline"],
            author_names=[s["byline"]],
            subjects=[s["subject"]],
            body_html="".join(f"<p>{p}</p>" for p in s["paragraphs"]),
            body_text=text,
            word_count=words,
            reading_minutes=max(1, -(-words // 230)),
            firstcreated=s["when"],
            versioncreated=s["when"],
        )


def submitted_fields(newsroom: Newsroom, i: int, prefix: str = "bench") -> dict[str, str]:
    """An `article.submitted` entry for the newsroom.submissions input stream."""
    doc = newsroom.ninjs(i, prefix)
    return Envelope[dict[str, Any]](
        source="/galley/bench", type=names.ARTICLE_SUBMITTED, subject=doc["uri"], data=doc
    ).to_fields()


def ingested_fields(newsroom: Newsroom, i: int, prefix: str = "archive") -> dict[str, str]:
    """An `article.ingested` entry, as ingest's outbox would write it."""
    article = newsroom.article(i, prefix)
    return Envelope[Article](
        source=names.source_of(names.INGEST),
        type=names.ARTICLE_INGESTED,
        subject=article.uri,
        data=article,
    ).to_fields()


def uris(prefix: str, start: int, stop: int) -> Iterator[str]:
    return (f"urn:galley:{prefix}:{i}" for i in range(start, stop))
