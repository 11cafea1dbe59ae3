"""The workload: N stories with updates, corrections, kills and author changes, sent
through ingest's HTTP API concurrently; every 2xx answer goes into the ledger."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

RETRY_STATUSES = {429, 500, 502, 503, 504}
TOPICS = [
    "harbour",
    "budget",
    "election",
    "drought",
    "railway",
    "museum",
    "vaccine",
    "bridge",
    "festival",
    "wildfire",
    "tariff",
    "stadium",
    "orchestra",
    "satellite",
    "glacier",
]
AUTHORS = ["Ada Chaos", "Ben Fault", "Cleo Restart", "Dan Partition", "Eve Replay"]


def author_slug(name: str) -> str:
    return name.lower().replace(" ", "-")


@dataclass(frozen=True)
class Step:
    """One request: an article version (lifecycle planned) or an author profile."""

    kind: str  # "article" | "author"
    key: str  # uri or author slug
    version: int
    lifecycle: str
    body: dict[str, Any]


@dataclass
class Ledger:
    """Everything ingest acknowledged with 2xx: (uri, version) -> (lifecycle, status)."""

    articles: dict[str, dict[int, str]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    authors: int = 0
    refused: list[str] = field(default_factory=list)  # non-retryable 4xx: not in the ledger
    gave_up: int = 0  # never got a 2xx before the deadline: not in the ledger

    def record(self, step: Step, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if step.kind == "author":
            self.authors += 1
        elif status in ("accepted", "duplicate"):
            self.articles.setdefault(step.key, {})[step.version] = step.lifecycle

    @property
    def acknowledged(self) -> int:
        return sum(self.statuses.values())


def _article(
    uri: str, i: int, version: int, lifecycle: str, author: str, rng: random.Random
) -> dict[str, Any]:
    topic = TOPICS[i % len(TOPICS)]
    words = " ".join(rng.choice(TOPICS) for _ in range(40))
    at = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i, seconds=version)).isoformat()
    doc: dict[str, Any] = {
        "uri": uri,
        "type": "text",
        "version": str(version),
        "language": "en",
        "firstcreated": at,
        "versioncreated": at,
        "pubstatus": "canceled" if lifecycle == "killed" else "usable",
        "headlines": [{"role": "main", "value": f"Chaos story {i} on the {topic} (v{version})"}],
        "bodies": [
            {
                "role": "main",
                "contenttype": "text/html",
                "value": f"<p>Story {i}, v{version}, on the {topic}.</p><p>{words}</p>",
            }
        ],
        "by": author,
        "people": [{"name": author, "rel": "author"}],
        "subjects": [{"name": topic.title()}],
    }
    if lifecycle == "corrected":
        doc["descriptions"] = [
            {
                "role": "correction",
                "value": f"An earlier version of story {i} misnamed the {topic}.",
            }
        ]
    return doc


def _author(name: str, revision: int) -> dict[str, Any]:
    return {
        "name": name,
        "role": "Reporter",
        "slug": author_slug(name),
        "bio": f"{name} reports on everything that can go wrong (bio revision {revision}).",
        "aliases": [],
    }


def plan(
    n: int, *, run: str, seed: int = 7, author_changes: int = 2
) -> tuple[list[Step], list[list[Step]], list[Step]]:
    """(initial author profiles, per-story version chains, later author changes)."""
    rng = random.Random(seed)
    authors = [Step("author", author_slug(a), 0, "author", _author(a, 0)) for a in AUTHORS]
    stories: list[list[Step]] = []
    for i in range(n):
        uri = f"urn:galley:chaos:{run}:{i}"
        lifecycles = ["published"]
        if rng.random() < 0.5:
            lifecycles.append("updated")
        if rng.random() < 0.3:
            lifecycles.append("corrected")
        if rng.random() < 0.12:
            lifecycles.append("killed")
        author = AUTHORS[i % len(AUTHORS)]
        stories.append(
            [
                Step("article", uri, v, lc, _article(uri, i, v, lc, author, rng))
                for v, lc in enumerate(lifecycles, start=1)
            ]
        )
    changes = [
        Step("author", author_slug(a), r, "author", _author(a, r))
        for r in range(1, author_changes + 1)
        for a in AUTHORS
    ]
    return authors, stories, changes


class Driver:
    """Sends steps with bounded concurrency; retries 429/5xx/connection errors until 2xx."""

    def __init__(
        self,
        base_url: str,
        ledger: Ledger,
        *,
        concurrency: int = 16,
        deadline: float = 600.0,
        on_progress: Callable[[], None] = lambda: None,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.base_url = base_url
        self.ledger = ledger
        self.concurrency = concurrency
        self.deadline = deadline
        self.on_progress = on_progress
        self.admit = admit
        self.retries = 0

    async def send(self, client: httpx.AsyncClient, step: Step) -> None:
        path = "/v1/articles" if step.kind == "article" else "/v1/authors"
        if self.admit is not None:
            await self.admit()
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.deadline
        backoff = 0.1
        while loop.time() < give_up:
            try:
                resp = await client.post(path, json=step.body)
            except (httpx.TransportError, httpx.TimeoutException):
                resp = None
            if resp is not None and resp.status_code < 300:
                self.ledger.record(step, str(resp.json().get("status", resp.status_code)))
                self.on_progress()
                return
            if resp is not None and resp.status_code not in RETRY_STATUSES:
                self.ledger.refused.append(
                    f"{step.key} v{step.version}: {resp.status_code} {resp.text[:200]}"
                )
                return
            self.retries += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)
        self.ledger.gave_up += 1

    async def run(
        self, authors: list[Step], stories: list[list[Step]], changes: list[Step]
    ) -> None:
        limits = httpx.Limits(max_connections=self.concurrency * 2)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10.0, limits=limits) as client:
            for step in authors:
                await self.send(client, step)
            queue: asyncio.Queue[list[Step]] = asyncio.Queue()
            every = max(1, len(stories) // (len(changes) + 1))
            for k, chain in enumerate(stories):
                queue.put_nowait(chain)
                if changes and (k + 1) % every == 0 and k // every < len(changes):
                    queue.put_nowait([changes[k // every]])

            async def worker() -> None:
                while not queue.empty():
                    chain = queue.get_nowait()
                    for step in chain:  # one story's versions in order
                        await self.send(client, step)

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))
