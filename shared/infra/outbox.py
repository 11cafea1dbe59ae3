"""The transactional outbox.

A service writes the event it emits into its own SQLite `outbox` table in the
same transaction as the state change; a relay loop copies unsent rows to Redis
in order as soon as they commit, and marks them sent in bulk a little later
(normally within `mark_every` seconds). If Redis is down the rows wait. If the process dies
between XADD and marking a row sent, the row is sent again: the XADD runs
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
import time
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


_INSERT = (
    "INSERT INTO outbox(stream, event_id, event_type, subject, fields, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def outbox_row(stream: str, event: Envelope[Any]) -> tuple[Any, ...]:
    """The outbox row of an event (the parameters of `_INSERT`)."""
    return (
        stream,
        event.id,
        event.type,
        event.subject,
        json.dumps(event.to_fields(), ensure_ascii=False),
        datetime.now(UTC).isoformat(),
    )


async def enqueue(conn: aiosqlite.Connection, stream: str, event: Envelope[Any]) -> None:
    """Queue an event; call inside the transaction that makes the state change."""
    await conn.execute(_INSERT, outbox_row(stream, event))


def enqueue_sync(conn: sqlite3.Connection, stream: str, event: Envelope[Any]) -> None:
    """`enqueue` for a unit of work running on the connection's thread (`db.run_sync`)."""
    conn.execute(_INSERT, outbox_row(stream, event))


class OutboxRelay:
    """Copies unsent outbox rows to Redis streams, in order, surviving Redis outages.

    Appending and marking are separate steps. `run` appends rows as soon as they commit
    and records them as sent in SQLite later, in bulk: once `mark_every` seconds have
    passed since the oldest unmarked row, once `batch` rows wait, when the relay goes
    idle, and when it stops. Rows appended but not yet marked are the ones a crash sends
    again, and the guarded XADD keeps the stream holding each event once.
    """

    def __init__(
        self,
        db: Database,
        writer: StreamWriter,
        *,
        batch: int = 500,
        idle_wait: float = 0.5,
        max_backoff: float = 5.0,
        mark_every: float = 1.0,
    ) -> None:
        self._db = db
        self._writer = writer
        self._batch = batch
        self._idle_wait = idle_wait
        self._max_backoff = max_backoff
        self._mark_every = mark_every
        self._wake = asyncio.Event()
        self._appended: list[tuple[int, str]] = []  # (seq, entry id): in Redis, not marked yet
        self._oldest_unmarked = 0.0  # monotonic time of the first row in _appended
        self._after = 0  # every row up to this seq is in Redis (marked, or in _appended)
        self.failures = 0

    def notify(self) -> None:
        """Wake the relay now instead of at its next poll."""
        self._wake.set()

    async def pending(self) -> int:
        """Rows not yet appended to Redis."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND seq > ?", (self._after,)
        )
        return int(row[0]) if row else 0

    async def relay_once(self) -> int:
        """Append one batch and mark it sent; returns how many rows went out. Raises if
        Redis fails."""
        sent = await self.append_once()
        await self.mark_sent()
        return sent

    async def append_once(self) -> int:
        """Append the next batch of unsent rows, in order, without marking them sent."""
        rows = await self._db.peek(
            "SELECT seq, stream, fields FROM outbox WHERE sent_at IS NULL AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (self._after, self._batch),
        )
        if not rows:
            return 0
        entry_ids = await self._writer.append_many(
            [(row["stream"], json.loads(row["fields"])) for row in rows]
        )
        if not self._appended:
            self._oldest_unmarked = time.monotonic()
        self._appended.extend(zip((row["seq"] for row in rows), entry_ids, strict=True))
        self._after = rows[-1]["seq"]
        return len(rows)

    async def mark_sent(self) -> int:
        """Record every appended row as sent, in one transaction."""
        done, self._appended = self._appended, []
        if not done:
            return 0
        now = datetime.now(UTC).isoformat()
        try:
            async with self._db.transaction() as conn:
                await conn.executemany(
                    "UPDATE outbox SET sent_at = ?, entry_id = ? WHERE seq = ?",
                    [(now, entry_id, seq) for seq, entry_id in done],
                )
        except BaseException:
            self._appended = done + self._appended  # still to be marked
            raise
        return len(done)

    async def _mark_if_due(self, idle: bool) -> None:
        """Mark what was appended when the relay is idle, `batch` rows wait, or the oldest
        is `mark_every` old. A failure leaves the rows to the next try, or to a re-send
        after a restart (which the guarded XADD turns into no-ops)."""
        if not self._appended or not (
            idle
            or len(self._appended) >= self._batch
            or time.monotonic() - self._oldest_unmarked >= self._mark_every
        ):
            return
        try:
            await self.mark_sent()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # SQLite busy or failing: the rows stay unmarked
            log.warning("outbox relay: could not mark %d rows sent (%s)", len(self._appended), exc)

    def _wait_for(self) -> float:
        """How long to sleep when nothing is left to append."""
        if not self._appended:
            return self._idle_wait
        due = self._oldest_unmarked + self._mark_every - time.monotonic()
        return max(0.0, min(self._idle_wait, due))

    async def run(self) -> None:
        try:
            await self._run()
        finally:  # stopping: record what went out, so a restart does not send it again
            await self._mark_if_due(idle=True)

    async def _run(self) -> None:
        backoff = 0.1
        idle = False
        while True:
            # Clear BEFORE looking: a commit that lands while append_once runs (its
            # SELECT may predate that commit) leaves the event set, so the wait
            # below returns at once instead of sleeping on a row already there.
            self._wake.clear()
            try:
                sent = await self.append_once()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or flaky: keep the rows, retry later
                self.failures += 1
                log.warning("outbox relay: Redis unavailable (%s); retrying in %.1fs", exc, backoff)
                await self._mark_if_due(idle=True)  # what went out before the outage
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            await self._mark_if_due(idle and not sent)
            idle = False
            if sent:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._wait_for())
            except TimeoutError:
                idle = True
