"""Catch up on every published article, then follow `articles.published` live.

    galley replay --redis-url redis://127.0.0.1:6379/0 --from-start [--no-follow] [--json]

History: every entry is read from id 0 and collapsed to the current version of
each article (the highest version per `subject`; an article whose current state
is `article.killed` is left out), listed in the order the articles were first
published. The stream keeps only GALLEY_PUBLISHED_RETENTION_S (30 days), so the
current versions of older stories come from publish itself (`GET /v1/published`):
they are listed first, as events with the id `archive:<uri>:<version>:<revision>`,
and a stream entry of the same or a newer version wins over them. Live: reading then
continues with XREAD from the id of the last entry the history read, so nothing
written in between is skipped; an event not newer than what was listed for its
article is not listed again.

Duplicates: the same event (same CloudEvents `id`) can appear in two entries,
e.g. when publish's outbox re-sends after a crash. A subscriber drops any event
whose `id` it has already handled; `replay()` does that for the events it yields,
and a subscriber that stores its position should also store handled ids.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared import names
from shared.envelope import Envelope, EnvelopeError, from_fields
from shared.infra.streams import text

log = logging.getLogger("galley.replay")

START = "0-0"


@dataclass(frozen=True)
class Entry:
    entry_id: str  # the Redis stream entry id: the position to continue from
    event: Envelope[dict[str, Any]]

    @property
    def version(self) -> tuple[int, int]:
        data = self.event.data
        return int(data.get("version", 0)), int(data.get("enrichment_revision", 0))


def current_versions(entries: Iterable[Entry]) -> list[Entry]:
    """The latest version of each article, in first-publication order; kills drop it."""
    latest: dict[str, Entry] = {}  # insertion order = first publication
    for entry in entries:
        key = entry.event.subject or entry.event.id
        known = latest.get(key)
        if known is None or entry.version >= known.version:
            latest[key] = entry
    return [e for e in latest.values() if e.event.type != names.ARTICLE_KILLED]


def _parse(entry_id: Any, fields: Any) -> Entry | None:
    try:
        return Entry(text(entry_id), from_fields(fields))
    except EnvelopeError as exc:
        log.warning("skipping unreadable entry %s: %s", text(entry_id), exc)
        return None


async def read_history(
    redis: Any, stream: str = names.ARTICLES_PUBLISHED, *, batch: int = 500
) -> tuple[list[Entry], str]:
    """Every entry from the start, and the id of the last one read (0-0 when empty)."""
    entries: list[Entry] = []
    last = START
    while True:
        chunk = await redis.xrange(stream, min=f"({last}", max="+", count=batch)
        if not chunk:
            return entries, last
        for entry_id, fields in chunk:
            last = text(entry_id)
            parsed = _parse(entry_id, fields)
            if parsed is not None:
                entries.append(parsed)


async def last_entry_id(redis: Any, stream: str = names.ARTICLES_PUBLISHED) -> str:
    newest = await redis.xrevrange(stream, max="+", min="-", count=1)
    return text(newest[0][0]) if newest else START


async def follow(
    redis: Any, after: str, stream: str = names.ARTICLES_PUBLISHED, *, block_ms: int = 1000
) -> AsyncIterator[Entry]:
    """Entries written after `after`, forever (XREAD BLOCK)."""
    while True:
        answer = await redis.xread({stream: after}, count=100, block=block_ms)
        for _stream, chunk in answer or []:
            for entry_id, fields in chunk:
                after = text(entry_id)
                parsed = _parse(entry_id, fields)
                if parsed is not None:
                    yield parsed


Archive = Callable[[], AsyncIterator[dict[str, Any]]]


def archived(item: dict[str, Any]) -> Entry:
    """A current version publish holds, as the event a subscriber would have read."""
    version = f"{item.get('version', 0)}:{item.get('enrichment_revision', 0)}"
    fields: dict[str, Any] = {
        "id": f"archive:{item.get('uri')}:{version}",
        "source": names.source_of(names.PUBLISH),
        "type": names.ARTICLE_PUBLISHED,
        "subject": item.get("uri"),
        "data": item,
    }
    if stamp := item.get("modified_at") or item.get("published_at"):
        fields["time"] = stamp  # else: now
    event = Envelope[dict[str, Any]].model_validate(fields)
    return Entry("archive", event)


async def replay(
    redis: Any,
    *,
    from_start: bool = True,
    live: bool = True,
    stream: str = names.ARTICLES_PUBLISHED,
    block_ms: int = 1000,
    archive: Archive | None = None,
) -> AsyncIterator[Entry]:
    """History (current versions) then live events, each event id at most once; with
    `archive`, the stories older than the stream come from publish (module docstring)."""
    seen: set[str] = set()
    listed: dict[str, tuple[int, int]] = {}
    if from_start:
        history, last = await read_history(redis, stream)
        seen.update(e.event.id for e in history)
        older = [archived(item) async for item in archive()] if archive is not None else []
        for entry in current_versions([*reversed(older), *history]):
            listed[entry.event.subject or entry.event.id] = entry.version
            yield entry
    else:
        last = await last_entry_id(redis, stream)
    if not live:
        return
    async for entry in follow(redis, last, stream, block_ms=block_ms):
        if entry.event.id in seen:
            continue  # a re-sent duplicate
        seen.add(entry.event.id)
        if entry.version <= listed.get(entry.event.subject or "", (-1, -1)):
            continue  # already listed at this version (from publish's archive)
        yield entry


async def publish_archive(site_url: str, *, page: int = 200) -> AsyncIterator[dict[str, Any]]:
    """Every live article's current version from publish's `GET /v1/published`."""
    import httpx

    after: str | None = None
    async with httpx.AsyncClient(base_url=site_url.rstrip("/"), timeout=30) as client:
        while True:
            params: dict[str, Any] = {"limit": page, **({"after": after} if after else {})}
            response = await client.get("/v1/published", params=params)
            response.raise_for_status()
            body = response.json()
            for item in body["items"]:
                yield item
            after = body.get("next")
            if not after:
                return


def describe(entry: Entry, as_json: bool = False) -> str:
    data = entry.event.data
    if as_json:
        return json.dumps(
            {"entry_id": entry.entry_id, **entry.event.model_dump(mode="json")}, ensure_ascii=False
        )
    return (
        f"{entry.entry_id}  {entry.event.type:<17}  {entry.event.subject}  "
        f"v{data.get('version')}  {data.get('headline', '')}"
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m galley.replay ...` is `galley replay ...` (see its --help)."""
    import sys

    from galley.cli import main as galley

    return galley(["replay", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
