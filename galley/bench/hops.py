"""Where an article's latency goes: the time between its entries on each stream.

A Redis stream entry id starts with the server's clock in milliseconds when the
entry was appended, so for one article the ids on `newsroom.submissions`,
`articles.ingested`, `articles.enriched` and `articles.published` say how long
each service held it (its read wait, its work, its commit and its outbox relay).
All ids come from one Redis server, so the differences need no synchronized clocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from galley.bench.stats import percentile
from shared import names

# (hop label, stream the article leaves from, stream it arrives on)
HOPS = (
    ("ingest", names.NEWSROOM_SUBMISSIONS, names.ARTICLES_INGESTED),
    ("enrichment", names.ARTICLES_INGESTED, names.ARTICLES_ENRICHED),
    ("publish", names.ARTICLES_ENRICHED, names.ARTICLES_PUBLISHED),
)


def entry_ms(entry_id: str) -> int:
    """The millisecond part of a stream entry id ("1700000000000-3" -> 1700000000000)."""
    return int(entry_id.split("-", 1)[0])


def first_seen(entries: Iterable[tuple[str, Mapping[str, str]]], uris: set[str]) -> dict[str, int]:
    """uri -> ms of its first entry among `entries` (id, fields with 'subject')."""
    seen: dict[str, int] = {}
    for entry_id, fields in entries:
        uri = fields.get("subject", "")
        if uri in uris and uri not in seen:
            seen[uri] = entry_ms(entry_id)
    return seen


def hop_table(
    stamps: Mapping[str, Mapping[str, int]], uris: set[str]
) -> dict[str, dict[str, float]]:
    """Per hop: p50/p95/p99/max in ms over the uris seen on both of its streams."""
    table: dict[str, dict[str, float]] = {}
    for label, src, dst in HOPS:
        a, b = stamps.get(src, {}), stamps.get(dst, {})
        gaps = [float(b[u] - a[u]) for u in uris if u in a and u in b]
        if gaps:
            table[label] = {
                "n": float(len(gaps)),
                "p50": percentile(gaps, 50),
                "p95": percentile(gaps, 95),
                "p99": percentile(gaps, 99),
                "max": max(gaps),
            }
    return table


async def collect(
    redis: Any, uris: set[str], since_ms: int, chunk: int = 500
) -> dict[str, dict[str, int]]:
    """Read each hop stream from `since_ms` on and stamp the given uris."""
    stamps: dict[str, dict[str, int]] = {}
    streams = {s for _, src, dst in HOPS for s in (src, dst)}
    for stream in streams:
        found: dict[str, int] = {}
        start = f"{since_ms}-0"
        while True:
            batch = await redis.xrange(stream, min=start, max="+", count=chunk)
            if not batch:
                break
            decoded = [(i.decode(), {"subject": f.get(b"subject", b"").decode()}) for i, f in batch]
            for uri, ms in first_seen(decoded, uris).items():
                found.setdefault(uri, ms)
            last = decoded[-1][0]
            ms, seq = last.split("-")
            start = f"{ms}-{int(seq) + 1}"
            if len(batch) < chunk:
                break
        stamps[stream] = found
    return stamps
