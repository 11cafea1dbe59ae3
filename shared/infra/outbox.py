"""The transactional outbox.

A service writes the event it emits into its own SQLite `outbox` table in the
same transaction as the state change; a relay loop copies unsent rows to Redis
in order as soon as they commit, and marks them sent in bulk a little later
(normally within `mark_every` seconds). If Redis is down the rows wait. If the process dies
between XADD and marking a row sent, the row is sent again: the XADD runs
in a Lua script guarded by a per-event key (`galley:sent:<stream>:<event id>`,
kept for `DEDUP_TTL_S`), so the copy is not appended twice and the stream holds
each event once; consumers still drop duplicates by event id as a second line.

A Redis that forgets its last second (`appendfsync everysec` and a host crash)
loses the newest entries together with their guard keys, while the outbox has
them marked sent. The relay notices and appends them again:

* Each outbox has a watermark in Redis, `galley:outbox:<outbox id>`: the highest
  `seq` appended so far. The guard script raises it in the same atomic step as the
  XADD, so a Redis that lost an entry lost the watermark's rise with it (the AOF is
  replayed in order: what survives is a prefix of what was written).
* Every row is appended with the `seq` of the row before it, which Redis must
  already hold: a watermark below it means Redis forgot rows, and the script
  appends nothing ("gap"). So nothing new lands on a stream before what was lost,
  and per-stream order survives the repair.
* On a gap, and when a check of the watermark (every `check_every` seconds while the
  relay idles, and at start) finds it below what the relay has passed, the relay
  appends again, in order and through the same guard, the rows above the watermark
  sent within `repair_window` seconds of the newest of them (Redis can only lose the
  writes of the last second or two before it died, and the newest row was appended
  before it died). A row whose guard key survived is not appended twice.
* Consumers see a re-appended event under a new entry id; they drop it if they had
  already handled it (processed event ids), as after any redelivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import aiosqlite
from redis.exceptions import NoScriptError

from shared.envelope import Envelope
from shared.events import CATALOGUE, UnknownEventType
from shared.infra.db import Database
from shared.infra.streams import text

log = logging.getLogger("galley.outbox")

DEDUP_TTL_S = 24 * 3600  # a sent event id is remembered this long (crash-to-restart window)
REPAIR_WINDOW_S = 60.0  # rows sent this long before the newest are re-checked after a gap

# KEYS[1] stream, KEYS[2] dedup key, KEYS[3] the outbox's watermark (or no third key);
# ARGV[1] ttl, ARGV[2] the row's seq, ARGV[3] the seq Redis must hold already (-1: do not
# check), then field, value, ...
# Atomic: either the entry was appended before (return its id), or Redis lacks a row
# before it (return {'gap', watermark}), or append it now and raise the watermark.
_XADD_ONCE = """
local seen = redis.call('GET', KEYS[2])
if KEYS[3] then
  local raw = redis.call('GET', KEYS[3])
  local mark = tonumber(raw or '0')
  if not seen and mark < tonumber(ARGV[3]) then return {'gap', raw or '0'} end
  if tonumber(ARGV[2]) > mark then redis.call('SET', KEYS[3], ARGV[2]) end
end
if seen then return seen end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))
redis.call('SET', KEYS[2], id, 'EX', tonumber(ARGV[1]))
return id
"""

# KEYS[1] the watermark; ARGV[1] a seq every row up to which Redis holds
_ADVANCE = """
local mark = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > mark then redis.call('SET', KEYS[1], ARGV[1]) end
return mark
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
CREATE TABLE IF NOT EXISTS outbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO outbox_meta(key, value) VALUES ('id', lower(hex(randomblob(16))));
"""


@dataclass(frozen=True)
class Link:
    """An entry's place in its outbox: its `seq`, and the `after` seq that Redis must
    already hold before it may be appended (-1: append without that check)."""

    seq: int
    after: int


@dataclass(frozen=True)
class Chain:
    """The watermark key of an outbox and the links of the entries being appended."""

    ledger: str
    links: Sequence[Link]
    repair: bool = False  # appending again what Redis forgot (no latency observed)


class Gap(Exception):
    """Redis does not hold a row the next entry must come after: it forgot writes.

    `appended` are the ids of the entries before it (appended); `watermark` is the
    highest seq Redis holds."""

    def __init__(self, appended: list[str], watermark: int) -> None:
        super().__init__(f"Redis holds outbox rows only up to {watermark}")
        self.appended = appended
        self.watermark = watermark


class StreamWriter(Protocol):
    """What the relay needs from Redis: append many entries in one round trip.

    A writer that also has `watermark` and `advance` (RedisStreamWriter) is given the
    chain of each batch and lets the relay find and repair what Redis forgot."""

    async def append_many(
        self, entries: list[tuple[str, dict[str, str]]], chain: Chain | None = None
    ) -> list[str]: ...


def sent_key(stream: str, event_id: str) -> str:
    """The Redis key remembering that an event was appended to a stream."""
    return f"galley:sent:{stream}:{event_id}"


def ledger_key(outbox_id: str) -> str:
    """The Redis key holding the highest outbox seq appended (the outbox's watermark)."""
    return f"galley:outbox:{outbox_id}"


class RedisStreamWriter:
    """Appends entries in one round trip, each event id at most once per stream.

    The guard script is called by its SHA (EVALSHA). redis-py's Script objects would
    send SCRIPT EXISTS before every pipeline, a second round trip per relay batch;
    here the script is loaded only when Redis answers NOSCRIPT (first use, or a
    restarted server), and only the entries that got that answer are sent again.

    `on_appended(entries)` is called after entries were appended (not for a repair),
    e.g. to observe end-to-end latency.
    """

    def __init__(
        self,
        redis: Any,
        *,
        dedup_ttl_s: int = DEDUP_TTL_S,
        on_appended: Callable[[list[tuple[str, dict[str, str]]]], None] | None = None,
    ) -> None:
        self._redis = redis
        self._ttl = dedup_ttl_s
        self._sha = hashlib.sha1(_XADD_ONCE.encode()).hexdigest()
        self._advance = redis.register_script(_ADVANCE)
        self._on_appended = on_appended

    async def append_many(
        self, entries: list[tuple[str, dict[str, str]]], chain: Chain | None = None
    ) -> list[str]:
        """The entry ids, in order; raises `Gap` (with the ids appended before it) at
        the first entry whose predecessor Redis does not hold."""
        replies = await self._send(entries, chain)
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            await self._redis.script_load(_XADD_ONCE)
            again = await self._send(
                [entries[i] for i in missing],
                None if chain is None else Chain(chain.ledger, [chain.links[i] for i in missing]),
            )
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        ids: list[str] = []
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
            if isinstance(reply, list):  # ['gap', watermark]
                self._appended(entries[: len(ids)], chain)
                raise Gap(ids, int(text(reply[1])))
            ids.append(text(reply))
        self._appended(entries, chain)
        return ids

    def _appended(self, entries: list[tuple[str, dict[str, str]]], chain: Chain | None) -> None:
        if self._on_appended is not None and entries and not (chain and chain.repair):
            self._on_appended(entries)

    async def watermark(self, ledger: str) -> int:
        """The highest outbox seq Redis holds (0 when it has no watermark)."""
        raw = await self._redis.get(ledger)
        return int(raw) if raw else 0

    async def advance(self, ledger: str, seq: int) -> None:
        """Raise the watermark to `seq` (never lowers it)."""
        await self._advance(keys=[ledger], args=[seq])

    async def _send(
        self, entries: list[tuple[str, dict[str, str]]], chain: Chain | None
    ) -> list[Any]:
        pipe = self._redis.pipeline(transaction=False)
        for n, (stream, fields) in enumerate(entries):
            event_id = fields.get("id")
            if not event_id:
                pipe.xadd(stream, fields)
                continue
            flat = [part for pair in fields.items() for part in pair]
            if chain is None:
                keys: tuple[str, ...] = (stream, sent_key(stream, event_id))
                link = Link(0, -1)
            else:
                keys = (stream, sent_key(stream, event_id), chain.ledger)
                link = chain.links[n]
            pipe.evalsha(self._sha, len(keys), *keys, self._ttl, link.seq, link.after, *flat)
        return list(await pipe.execute(raise_on_error=False))


_INSERT = (
    "INSERT INTO outbox(stream, event_id, event_type, subject, fields, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def outbox_row(event: Envelope[Any], stream: str | None = None) -> tuple[Any, ...]:
    """The outbox row of an event (the parameters of `_INSERT`). The stream is the event
    type's in the catalogue (shared/events.py); `stream` names one only for a type the
    catalogue does not list (the relay's own tests and benchmarks)."""
    return (
        _stream_for(event.type, stream),
        event.id,
        event.type,
        event.subject,
        json.dumps(event.to_fields(), ensure_ascii=False),
        datetime.now(UTC).isoformat(),
    )


def _stream_for(event_type: str, stream: str | None) -> str:
    known = CATALOGUE.get(event_type)
    if known is None:
        if stream is None:
            raise UnknownEventType(f"{event_type!r} is not in the event catalogue and no stream")
        return stream
    if stream is not None and stream != known.stream:
        raise ValueError(f"{event_type} travels on {known.stream}, not on {stream}")
    return known.stream


async def enqueue(
    conn: aiosqlite.Connection, event: Envelope[Any], stream: str | None = None
) -> None:
    """Queue an event; call inside the transaction that makes the state change."""
    await conn.execute(_INSERT, outbox_row(event, stream))


def enqueue_sync(conn: sqlite3.Connection, event: Envelope[Any], stream: str | None = None) -> None:
    """`enqueue` for a unit of work running on the connection's thread (`db.run_sync`)."""
    conn.execute(_INSERT, outbox_row(event, stream))


async def prune_outbox(db: Database, before: datetime, *, chunk: int = 1000) -> int:
    """Delete rows sent before `before` (never an unsent row); returns how many went."""
    from shared.infra.retention import prune_oldest

    return await prune_oldest(db, "outbox", "seq", "sent_at", before, chunk=chunk)


class OutboxRelay:
    """Copies unsent outbox rows to Redis streams, in order, surviving Redis outages.

    Appending and marking are separate steps. `run` appends rows as soon as they commit
    and records them as sent in SQLite later, in bulk: once `mark_every` seconds have
    passed since the oldest unmarked row, once `batch` rows wait, when the relay goes
    idle, and when it stops. Rows appended but not yet marked are the ones a crash sends
    again, and the guarded XADD keeps the stream holding each event once.

    With a writer that keeps the outbox's watermark (RedisStreamWriter), the relay also
    finds rows Redis forgot (module docstring) and appends them again: `repairs` counts
    the times it found a gap, `resent` the rows it appended again.
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
        repair_window: float = REPAIR_WINDOW_S,
        check_every: float = 1.0,
    ) -> None:
        self._db = db
        self._writer = writer
        self._batch = batch
        self._idle_wait = idle_wait
        self._max_backoff = max_backoff
        self._mark_every = mark_every
        self._repair_window = repair_window
        self._check_every = check_every
        self._chained = hasattr(writer, "watermark") and hasattr(writer, "advance")
        self._wake = asyncio.Event()
        self._appended: list[tuple[int, str]] = []  # (seq, entry id): in Redis, not marked yet
        self._oldest_unmarked = 0.0  # monotonic time of the first row in _appended
        self._after = 0  # every row up to this seq is in Redis (marked, or in _appended)
        self._started = False
        self._ledger: str | None = None  # the watermark key of this outbox
        self._checked = 0.0  # monotonic time Redis last showed it holds every row passed
        self.failures = 0
        self.repairs = 0
        self.resent = 0

    def notify(self) -> None:
        """Wake the relay now instead of at its next poll."""
        self._wake.set()

    async def pending(self) -> int:
        """Rows not yet appended to Redis."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND seq > ?", (self._after,)
        )
        return int(row[0]) if row else 0

    async def _start(self) -> None:
        """Read the outbox's id, and start just below its first unsent row."""
        if self._started:
            return
        meta = await self._db.fetchone("SELECT value FROM outbox_meta WHERE key = 'id'")
        self._ledger = ledger_key(meta["value"]) if meta and self._chained else None
        first = await self._db.fetchone("SELECT MIN(seq) FROM outbox WHERE sent_at IS NULL")
        if first is None or first[0] is None:
            below = await self._db.fetchone("SELECT MAX(seq) FROM outbox")
        else:
            below = await self._db.fetchone(
                "SELECT MAX(seq) FROM outbox WHERE seq < ?", (first[0],)
            )
        self._after = max(self._after, int(below[0] or 0) if below else 0)
        self._started = True

    async def relay_once(self) -> int:
        """Append one batch and mark it sent; returns how many rows went out. Raises if
        Redis fails."""
        sent = await self.append_once()
        await self.mark_sent()
        return sent

    async def append_once(self) -> int:
        """Append the next batch of unsent rows, in order, without marking them sent.

        Rows another replica of the service sent meanwhile are passed over (they still
        link the chain); a gap in Redis is repaired before anything newer goes out."""
        await self._start()
        rows = await self._db.peek(
            "SELECT seq, stream, CASE WHEN sent_at IS NULL THEN fields END AS fields"
            " FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (self._after, self._batch),
        )
        if not rows:
            return 0
        entries: list[tuple[str, dict[str, str]]] = []
        links: list[Link] = []
        previous = self._after
        for row in rows:
            if row["fields"] is not None:
                entries.append((row["stream"], json.loads(row["fields"])))
                links.append(Link(row["seq"], previous))
            previous = row["seq"]
        if not entries:
            self._after = previous
            return 0
        sent = 0
        for _ in range(3):  # a gap: repair, then send the rest (again if Redis lost more)
            try:
                if self._ledger is None:
                    entry_ids = await self._writer.append_many(entries)
                else:
                    entry_ids = await self._writer.append_many(entries, Chain(self._ledger, links))
            except Gap as gap:
                done = len(gap.appended)
                self._record(links[:done], gap.appended)
                sent += done
                self._after = links[done].after
                await self._repair(gap.watermark, self._after)
                entries, links = entries[done:], links[done:]
                continue
            self._record(links, entry_ids)
            self._after = previous
            self._checked = time.monotonic()
            return sent + len(entries)
        self.notify()  # Redis keeps losing rows: go on from here at the next turn
        return sent

    def _record(self, links: Sequence[Link], entry_ids: list[str]) -> None:
        if not links:
            return
        if not self._appended:
            self._oldest_unmarked = time.monotonic()
        self._appended.extend(zip((link.seq for link in links), entry_ids, strict=True))

    async def check(self) -> int:
        """Compare Redis's watermark with the rows this relay has passed; append again
        what Redis forgot. Returns how many rows were appended again."""
        await self._start()
        if self._ledger is None:
            return 0
        mark = await self._writer.watermark(self._ledger)  # type: ignore[attr-defined]
        self._checked = time.monotonic()
        if mark >= self._after:
            return 0
        return await self._repair(mark, self._after)

    async def _repair(self, watermark: int, upto: int) -> int:
        """Append again, in order, the rows in (watermark, upto] that Redis may have lost:
        those sent within `repair_window` of the newest of them, and any not marked yet.
        The guard skips a row whose entry is still there. Then raise the watermark."""
        if self._ledger is None or watermark >= upto:
            return 0
        self.repairs += 1
        newest = await self._db.fetchone(
            "SELECT sent_at FROM outbox WHERE seq > ? AND seq <= ? AND sent_at IS NOT NULL"
            " ORDER BY seq DESC LIMIT 1",
            (watermark, upto),
        )
        since = ""
        if newest is not None:
            start = datetime.fromisoformat(newest[0]) - timedelta(seconds=self._repair_window)
            since = start.isoformat()
        rows = await self._db.fetchall(
            "SELECT seq, stream, fields, entry_id FROM outbox WHERE seq > ? AND seq <= ?"
            " AND (sent_at IS NULL OR sent_at >= ?) ORDER BY seq",
            (watermark, upto, since),
        )
        unmarked = dict(self._appended)
        again = 0
        for at in range(0, len(rows), self._batch):
            chunk = rows[at : at + self._batch]
            entry_ids = await self._writer.append_many(
                [(row["stream"], json.loads(row["fields"])) for row in chunk],
                Chain(self._ledger, [Link(row["seq"], -1) for row in chunk], repair=True),
            )
            for row, entry_id in zip(chunk, entry_ids, strict=True):
                if entry_id != (row["entry_id"] or unmarked.get(row["seq"])):
                    again += 1
            now = datetime.now(UTC).isoformat()
            async with self._db.transaction() as conn:  # the time it (re)entered Redis
                await conn.executemany(
                    "UPDATE outbox SET sent_at = ?, entry_id = ? WHERE seq = ?",
                    [
                        (now, entry_id, row["seq"])
                        for row, entry_id in zip(chunk, entry_ids, strict=True)
                    ],
                )
        await self._writer.advance(self._ledger, upto)  # type: ignore[attr-defined]
        self.resent += again
        self._checked = time.monotonic()
        level = logging.WARNING if again else logging.INFO
        log.log(
            level,
            "outbox relay: Redis held rows only up to %d of %d; appended %d again (%d checked)",
            watermark,
            upto,
            again,
            len(rows),
        )
        return again

    async def mark_sent(self) -> int:
        """Record every appended row as sent, in one transaction (a row a repair has
        recorded meanwhile keeps the repair's entry id)."""
        done, self._appended = self._appended, []
        if not done:
            return 0
        now = datetime.now(UTC).isoformat()
        try:
            async with self._db.transaction() as conn:
                await conn.executemany(
                    "UPDATE outbox SET sent_at = ?, entry_id = ? WHERE seq = ? AND sent_at IS NULL",
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

    async def _check_if_due(self) -> None:
        """While idle, look at Redis's watermark every `check_every` seconds, so rows a
        restarted Redis forgot go out again even when nothing new is sent."""
        if not self._chained or time.monotonic() - self._checked < self._check_every:
            return
        try:
            await self.check()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis down: the next append or check tries again
            self._checked = time.monotonic()
            log.debug("outbox relay: cannot check Redis's watermark yet (%s)", exc)

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
                before = self._after
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
            if sent or self._after != before:
                continue
            await self._check_if_due()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._wait_for())
            except TimeoutError:
                idle = True
