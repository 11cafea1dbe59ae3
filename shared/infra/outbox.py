"""The transactional outbox.

A service writes the event it emits into its own SQLite `outbox` table in the
same transaction as the state change; a relay loop copies unsent rows to Redis
in order and marks them sent. If Redis is down the rows wait. If the process
dies between XADD and marking a row sent, the row is sent again: the XADD runs
in a Lua script guarded by a per-event key (`galley:sent:<stream>:<event id>`,
kept for `DEDUP_TTL_S`), so the copy is not appended twice and the stream holds
each event once; consumers still drop duplicates by event id as a second line.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
from datetime import UTC, datetime
from typing import Any, Protocol

import aiosqlite
from redis.exceptions import NoScriptError

from shared.envelope import Envelope
from shared.infra.db import Database

log = logging.getLogger("galley.outbox")

DEDUP_TTL_S = 24 * 3600  # a sent event id is remembered this long (crash-to-restart window)

# KEYS[1] stream, KEYS[2] dedup key; ARGV[1] ttl, then field, value, ...
# Atomic: either the entry was appended before (return its id) or append it now.
_XADD_ONCE = """
local seen = redis.call('GET', KEYS[2])
if seen then return seen end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
redis.call('SET', KEYS[2], id, 'EX', tonumber(ARGV[1]))
return id
"""

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject TEXT,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    entry_id TEXT
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(seq) WHERE sent_at IS NULL;
"""


class StreamWriter(Protocol):
    """What the relay needs from Redis: append many entries in one round trip."""

    async def append_many(self, entries: list[tuple[str, dict[str, str]]]) -> list[str]: ...


def sent_key(stream: str, event_id: str) -> str:
    """The Redis key remembering that an event was appended to a stream."""
    return f"galley:sent:{stream}:{event_id}"


class RedisStreamWriter:
    """Appends entries in one round trip, each event id at most once per stream.

    The guard script is called by its SHA (EVALSHA). redis-py's Script objects would
    send SCRIPT EXISTS before every pipeline, a second round trip per relay batch;
    here the script is loaded only when Redis answers NOSCRIPT (first use, or a
    restarted server), and only the entries that got that answer are sent again.
    """

    def __init__(self, redis: Any, *, dedup_ttl_s: int = DEDUP_TTL_S) -> None:
        self._redis = redis
        self._ttl = dedup_ttl_s
        self._sha = hashlib.sha1(_XADD_ONCE.encode()).hexdigest()

    async def append_many(self, entries: list[tuple[str, dict[str, str]]]) -> list[str]:
        replies = await self._send(entries)
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            await self._redis.script_load(_XADD_ONCE)
            again = await self._send([entries[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return [i.decode() if isinstance(i, bytes) else str(i) for i in replies]

    async def _send(self, entries: list[tuple[str, dict[str, str]]]) -> list[Any]:
        pipe = self._redis.pipeline(transaction=False)
        for stream, fields in entries:
            event_id = fields.get("id")
            if not event_id:
                pipe.xadd(stream, fields)
                continue
            flat = [part for pair in fields.items() for part in pair]
            pipe.evalsha(self._sha, 2, stream, sent_key(stream, event_id), self._ttl, *flat)
        return list(await pipe.execute(raise_on_error=False))


_INSERT = ("INSERT INTO outbox(stream, event_id, event_type, subject, fields, created_at)"
           " VALUES (?, ?, ?, ?, ?, ?)")


def outbox_row(stream: str, event: Envelope[Any]) -> tuple[Any, ...]:
    """The outbox row of an event (the parameters of `_INSERT`)."""
    return (stream, event.id, event.type, event.subject,
            json.dumps(event.to_fields(), ensure_ascii=False), datetime.now(UTC).isoformat())


async def enqueue(conn: aiosqlite.Connection, stream: str, event: Envelope[Any]) -> None:
    """Queue an event; call inside the transaction that makes the state change."""
    await conn.execute(_INSERT, outbox_row(stream, event))


def enqueue_sync(conn: sqlite3.Connection, stream: str, event: Envelope[Any]) -> None:
    """`enqueue` for a unit of work running on the connection's thread (`db.run_sync`)."""
    conn.execute(_INSERT, outbox_row(stream, event))


class OutboxRelay:
    """Copies unsent outbox rows to Redis streams, in order, surviving Redis outages."""

    def __init__(
        self,
        db: Database,
        writer: StreamWriter,
        *,
        batch: int = 500,
        idle_wait: float = 0.5,
        max_backoff: float = 5.0,
    ) -> None:
        self._db = db
        self._writer = writer
        self._batch = batch
        self._idle_wait = idle_wait
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self.failures = 0

    def notify(self) -> None:
        """Wake the relay now instead of at its next poll."""
        self._wake.set()

    async def pending(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        return int(row[0]) if row else 0

    async def relay_once(self) -> int:
        """Send one batch; returns how many rows went out. Raises if Redis fails."""
        rows = await self._db.fetchall(
            "SELECT seq, stream, fields FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
            (self._batch,),
        )
        if not rows:
            return 0
        entry_ids = await self._writer.append_many(
            [(row["stream"], json.loads(row["fields"])) for row in rows]
        )
        now = datetime.now(UTC).isoformat()
        async with self._db.transaction() as conn:
            await conn.executemany(
                "UPDATE outbox SET sent_at = ?, entry_id = ? WHERE seq = ?",
                [(now, eid, row["seq"]) for row, eid in zip(rows, entry_ids, strict=True)],
            )
        return len(rows)

    async def run(self) -> None:
        backoff = 0.1
        while True:
            # Clear BEFORE looking: a commit that lands while relay_once runs (its
            # SELECT may predate that commit) leaves the event set, so the wait
            # below returns at once instead of sleeping on a row already there.
            self._wake.clear()
            try:
                sent = await self.relay_once()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or flaky: keep the rows, retry later
                self.failures += 1
                log.warning("outbox relay: Redis unavailable (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if sent:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._idle_wait)
            except TimeoutError:
                pass
