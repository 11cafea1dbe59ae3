"""Catch up from the start of `articles.published`, then follow it live.

    galley replay --redis-url redis://127.0.0.1:6379/0 --from-start [--no-follow] [--json]

History: every entry is read from id 0 and collapsed to the current version of
each article (the highest version per `subject`; an article whose current state
is `article.killed` is left out), listed in the order the articles were first
published. Live: reading then continues with XREAD from the id of the last
entry the history read, so nothing written in between is skipped and nothing
read is read twice.

Duplicates: the same event (same CloudEvents `id`) can appear in two entries,
e.g. when publish's outbox re-sends after a crash. A subscriber drops any event
whose `id` it has already handled; `replay()` does that for the events it yields,
and a subscriber that stores its position should also store handled ids.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from shared import names
from shared.envelope import Envelope, EnvelopeError, from_fields

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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _parse(entry_id: Any, fields: Any) -> Entry | None:
    try:
        return Entry(_text(entry_id), from_fields(fields))
    except EnvelopeError as exc:
        log.warning("skipping unreadable entry %s: %s", _text(entry_id), exc)
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
            last = _text(entry_id)
            parsed = _parse(entry_id, fields)
            if parsed is not None:
                entries.append(parsed)


async def last_entry_id(redis: Any, stream: str = names.ARTICLES_PUBLISHED) -> str:
    newest = await redis.xrevrange(stream, max="+", min="-", count=1)
    return _text(newest[0][0]) if newest else START


async def follow(
    redis: Any, after: str, stream: str = names.ARTICLES_PUBLISHED, *, block_ms: int = 1000
) -> AsyncIterator[Entry]:
    """Entries written after `after`, forever (XREAD BLOCK)."""
    while True:
        answer = await redis.xread({stream: after}, count=100, block=block_ms)
        for _stream, chunk in answer or []:
            for entry_id, fields in chunk:
                after = _text(entry_id)
                parsed = _parse(entry_id, fields)
                if parsed is not None:
                    yield parsed


async def replay(
    redis: Any,
    *,
    from_start: bool = True,
    live: bool = True,
    stream: str = names.ARTICLES_PUBLISHED,
    block_ms: int = 1000,
) -> AsyncIterator[Entry]:
    """History (current versions) then live events, each event id at most once."""
    seen: set[str] = set()
    if from_start:
        history, last = await read_history(redis, stream)
        seen.update(e.event.id for e in history)
        for entry in current_versions(history):
            yield entry
    else:
        last = await last_entry_id(redis, stream)
    if not live:
        return
    async for entry in follow(redis, last, stream, block_ms=block_ms):
        if entry.event.id in seen:
            continue  # a re-sent duplicate
        seen.add(entry.event.id)
        yield entry


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
