"""Consuming Redis streams with FastStream without losing anything.

FastStream's defaults leave a failed entry pending forever, skip entries
written before a group exists and treat every field as opaque. This module
wires each stream as:

* the group created at id `0` before the subscriber starts (nothing skipped);
* a reader of new entries (`>`), `max_records` per read, explicit XACK: it takes
  a whole read as one batch in the service's `Database` (`db=`): every entry's
  handler runs in ONE SQLite transaction (each handler's own
  transaction becomes a savepoint, so a failing entry rolls back alone and stays
  pending), the batch commits once, and only then are the handled entries
  acknowledged with one XACK;
* a claimer in the same group (XAUTOCLAIM after `claim_idle_ms`) that re-runs
  entries a crashed or failing consumer left pending, and dead-letters an entry
  once it has been delivered `max_deliveries` times;
* every entry that can never succeed dead-lettered at once, with a reason that
  starts with what went wrong (`too-large`, `undecodable`, `unsupported`,
  `unknown-type`, `schema`, `unprocessable`), its original fields (and, when they
  are not UTF-8, their exact bytes) and the original entry id, then acknowledged
  so the stream flows on; nothing is acknowledged and dropped in silence. Only a
  handler failure that may pass later (SQLite busy, Redis down) is retried.

`claim_idle_ms` and `max_deliveries` come from the service's settings
(shared/infra/settings.py); the service builder (shared/infra/service.py) makes one
consumer per stream its group reads.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from faststream import AckPolicy
from faststream.redis import RedisBroker, RedisStreamMessage, StreamSub
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticSerializationError

from shared.envelope import (
    Envelope,
    EnvelopeError,
    fields_from_entry,
    from_fields,
    readable_fields,
    typed,
)
from shared.events import event_type, on_stream, read_by
from shared.infra.db import Database
from shared.infra.streams import text

log = logging.getLogger("galley.consumer")

PROCESSED_SCHEMA = """
CREATE TABLE IF NOT EXISTS processed_events (
    event_id TEXT PRIMARY KEY,
    processed_at TEXT NOT NULL
);
"""


# The Redis id of the entry whose handler is running (None in the in-memory broker).
_current_entry_id: ContextVar[str | None] = ContextVar("galley_entry_id", default=None)


def current_entry_id() -> str | None:
    """The stream entry id being handled right now, for handlers that record it."""
    return _current_entry_id.get()


# The bytes of the `data` field of the entry whose handler is running.
_current_entry_bytes: ContextVar[int] = ContextVar("galley_entry_bytes", default=0)


def current_entry_bytes() -> int:
    """How many bytes the `data` of the entry being handled has (0 outside a handler)."""
    return _current_entry_bytes.get()


_RECORD = "INSERT OR IGNORE INTO processed_events(event_id, processed_at) VALUES (?, ?)"


def first_time_sync(conn: sqlite3.Connection, event_id: str) -> bool:
    """Record an event id inside the caller's transaction, in a unit of work on the
    connection's thread (`db.run_sync`); False if seen before."""
    return conn.execute(_RECORD, (event_id, datetime.now(UTC).isoformat())).rowcount == 1


# --- retention of processed event ids (shared/infra/retention.py runs it) ----------------


async def prune_processed(db: Database, before: datetime, *, chunk: int = 1000) -> int:
    """Forget event ids handled before `before`; returns how many went. The window must
    outlast every redelivery (RetentionSettings checks it): an id forgotten too early
    would let a late duplicate run again."""
    from shared.infra.retention import prune_oldest

    return await prune_oldest(db, "processed_events", "rowid", "processed_at", before, chunk=chunk)


def consumer_name(service: str) -> str:
    """Unique per process, so two replicas never share a pending-entries list."""
    return f"{service}-{socket.gethostname()}-{os.getpid()}"


async def ensure_group(redis: Any, stream: str, group: str) -> None:
    """Create the group at `0` (whole history) if it does not exist yet."""
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except Exception as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class DeadLetters(Protocol):
    async def park(
        self,
        fields: Mapping[str, str],
        *,
        reason: str,
        entry_id: str | None,
        stream: str,
        group: str,
        original: Mapping[bytes, bytes] | None = None,
    ) -> None: ...


ORIGINAL = "dlq.original"  # the entry's exact bytes, when some field of it was not UTF-8


def encode_original(original: Mapping[bytes, bytes]) -> str:
    """An entry's exact field names and values as text: a JSON list of [name, value]
    pairs, each base64 (`galley dlq retry` turns it back into the same bytes)."""
    return json.dumps(
        [[base64.b64encode(k).decode(), base64.b64encode(v).decode()] for k, v in original.items()]
    )


def decode_original(text: str) -> dict[bytes, bytes]:
    return {base64.b64decode(k): base64.b64decode(v) for k, v in json.loads(text)}


def _storable(text: str) -> str:
    """Text Redis can store as UTF-8 (a lone surrogate shown as \\udXXX)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class DeadLetter(BaseModel):
    """An entry parked on `dlq.<service>`: the entry's own fields (a field named dlq.* as
    orig.dlq.*), plus these. `galley dlq` lists, shows, retries and drops them."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    reason: str = Field(
        alias="dlq.reason",
        description="Why it was parked; starts with too-large, undecodable, unsupported,"
        " unknown-type, schema, unprocessable or 'handler failed'.",
    )
    entry_id: str = Field(alias="dlq.entry_id", description="Its id on the stream it came from.")
    stream: str = Field(alias="dlq.stream", description="The stream it came from.")
    group: str = Field(alias="dlq.group", description="The consumer group that parked it.")
    time: str = Field(alias="dlq.time", description="When it was parked (RFC 3339).")
    original: str | None = Field(
        None,
        alias="dlq.original",
        description="Only when a field was not UTF-8: the entry's exact bytes, a JSON list of"
        " [name, value] pairs, each base64.",
    )


class RedisDeadLetters:
    """Writes parked entries to `dlq.<service>`: original fields plus dlq.* fields; an entry
    that was not UTF-8 has its fields as readable text (bad bytes as \\xNN) and its exact
    bytes in `dlq.original`."""

    def __init__(self, redis: Any, dlq_stream: str) -> None:
        self._redis = redis
        self.stream = dlq_stream

    async def park(
        self,
        fields: Mapping[str, str],
        *,
        reason: str,
        entry_id: str | None,
        stream: str,
        group: str,
        original: Mapping[bytes, bytes] | None = None,
    ) -> None:
        entry = {
            _storable(f"orig.{k}" if k.startswith("dlq.") else k): _storable(v)
            for k, v in fields.items()
        }
        entry.update(
            {
                "dlq.reason": _storable(reason[:2000]),
                "dlq.entry_id": entry_id or "",
                "dlq.stream": stream,
                "dlq.group": group,
                "dlq.time": datetime.now(UTC).isoformat(),
            }
        )
        if original is not None:
            entry[ORIGINAL] = encode_original(original)
        await self._redis.xadd(self.stream, entry)


Handler = Callable[[Envelope[Any]], Awaitable[None]]


class Unprocessable(ValueError):
    """A handler's way to say an entry can never succeed: it is dead-lettered at once with
    this reason, not retried."""


# Failures that depend only on the entry, so a retry would fail the same way: the entry is
# dead-lettered at once. Anything else (SQLite busy, Redis or the network down, a bug that
# a restart may not cure either) is left pending for the claimer to retry.
PERMANENT_FAILURES: tuple[type[BaseException], ...] = (
    Unprocessable,
    EnvelopeError,
    ValidationError,
    PydanticSerializationError,
    UnicodeError,
    OverflowError,
    RecursionError,
)


_STUB_ENTRY = {b"__data__": b"null"}


def _native(entry: Any) -> bool:
    """An entry written as plain fields (galley's CloudEvents), not FastStream's envelope."""
    return isinstance(entry, Mapping) and b"__data__" not in entry and "__data__" not in entry


async def raw_entries_parser(message: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's parser step: build the message without decoding any entry's body.

    For a batch read FastStream's parser decodes every entry, JSON-encodes the list and
    the decoder decodes it again; galley's entries are plain fields (CloudEvents
    attributes), which `entries_decoder` hands over as they are, so FastStream parses
    stub entries and the message keeps the real ones. Entries in FastStream's own format
    (the in-memory test broker) go through unchanged.
    """
    data = message.get("data") if isinstance(message, Mapping) else None
    if _native(data):
        stub = {**message, "data": _STUB_ENTRY}
    elif isinstance(data, list) and data and all(_native(entry) for entry in data):
        stub = {**message, "data": [_STUB_ENTRY] * len(data)}
    else:
        return await original(message)
    parsed = await original(stub)
    parsed.raw_message = message
    return parsed


@dataclass(frozen=True)
class StreamEntry:
    """One entry of a read as a handler gets it: its id and its own fields, undecoded."""

    id: str | None
    fields: Mapping[Any, Any]  # bytes from Redis, str from the in-memory test broker


async def entries_decoder(
    msg: Any, original: Callable[[Any], Awaitable[Any]]
) -> list[StreamEntry] | StreamEntry:
    """FastStream's decoder step: the body of a read is its entries (a batch read's list, a
    claimed entry alone), each with its id and undecoded fields. The consumer reads each
    into its envelope itself, so one entry that cannot be read is parked alone. Entries in
    FastStream's own format (the in-memory test broker) are decoded by FastStream, and
    one too deeply nested to decode becomes its raw text (then parked, not wedged)."""
    raw = msg.raw_message if isinstance(msg.raw_message, Mapping) else {}
    datas = raw.get("data")
    batch = isinstance(datas, list)
    items: list[Any] = list(datas) if isinstance(datas, list) else [datas]
    ids = [text(i) for i in raw.get("message_ids") or []]
    bodies: list[Any] = [None] * len(items)
    if not all(_native(item) for item in items):
        try:
            decoded = await original(msg)
        except RecursionError:
            decoded = None
        if not batch:
            bodies = [decoded]
        elif isinstance(decoded, list) and len(decoded) == len(items):
            bodies = decoded
    entries = [
        StreamEntry(ids[i] if i < len(ids) else None, _raw_entry(item, bodies[i]))
        for i, item in enumerate(items)
    ]
    return entries if batch else entries[0]


def new_broker(url: str, *, graceful_timeout: float = 15.0) -> RedisBroker:
    """The broker every service uses (entries parsed and decoded as they are, a bounded
    graceful stop, handlers called without dependency injection)."""
    # apply_types=False: no FastDepends model around the handlers (they take the body
    # only and need no casting), which saves its per-read work. log_level=DEBUG: the
    # "Received"/"Processed" lines FastStream writes for every read are debug output
    # (galley logs each event it handles itself); its errors keep their own levels.
    return RedisBroker(
        url,
        parser=raw_entries_parser,
        decoder=entries_decoder,
        graceful_timeout=graceful_timeout,
        apply_types=False,
        log_level=logging.DEBUG,
    )


async def keep_consuming(
    consumers: list[StreamConsumer],
    redis: Any,
    *,
    interval: float = 1.0,
    trim: tuple[str, ...] = (),
    trim_every: float = 60.0,
    retention_s: float = 3600.0,
) -> None:
    """Background task, until cancelled: heal every consumer whose group vanished, and
    now and then trim the named streams down to what every group has acknowledged."""
    import asyncio

    from shared.infra.trim import trim_acknowledged

    since_trim = 0.0
    while True:
        await asyncio.sleep(interval)
        for consumer in consumers:
            try:
                await consumer.heal(redis)
            except Exception as exc:  # Redis unreachable: try again next round
                log.warning("cannot heal %s/%s yet: %s", consumer.stream, consumer.group, exc)
        since_trim += interval
        if trim and since_trim >= trim_every:
            since_trim = 0.0
            for stream in trim:
                try:
                    await trim_acknowledged(redis, stream, min_age_s=retention_s)
                except Exception as exc:
                    log.warning("cannot trim %s yet: %s", stream, exc)


@dataclass(frozen=True)
class Route:
    """One event type on a stream: the payload model and the handler for it."""

    model: type[BaseModel]
    handle: Callable[[Envelope[Any]], Awaitable[None]]


def _described(stream: str, group: str) -> str:
    listed = on_stream(stream)
    if not listed:
        return f"The group {group} reads {stream}."
    kinds = "; ".join(f"{e.name}: {e.summary}" for e in listed)
    return (
        f"The group {group} reads {stream}: {kinds} An entry is a CloudEvents 1.0 event,"
        " its attributes as fields and `data` the JSON text of the payload."
    )


def _payload_of(stream: str) -> Any:
    """The envelope model of a stream's events (one payload model per stream), or Any."""
    models = list(dict.fromkeys(event.model for event in on_stream(stream)))
    return Envelope[models[0]] if len(models) == 1 else Any  # type: ignore[valid-type]


def routes_for(
    group: str, stream: str, handlers: Mapping[str, Callable[[Envelope[Any]], Awaitable[None]]]
) -> dict[str, Route]:
    """The routes of a consumer group on one stream, each payload model taken from the event
    catalogue (shared/events.py), the types' aliases routed alike. Raises ValueError when
    the catalogue does not say that `group` reads that type on `stream`, or when the
    handlers leave out a type it does."""
    routes: dict[str, Route] = {}
    for name, handle in handlers.items():
        event = event_type(name)
        if event.stream != stream or group not in event.groups:
            raise ValueError(
                f"the event catalogue does not say that {group} reads {name} on {stream}"
            )
        route = Route(event.model, handle)
        for spelling in (name, *event.aliases):
            routes[spelling] = route
    missing = {e.name for e in read_by(group).get(stream, [])} - set(handlers)
    if missing:
        raise ValueError(f"{group} reads {', '.join(sorted(missing))} on {stream}: no handler")
    return routes


Entry = Mapping[Any, Any]  # an entry's fields as read: bytes from Redis, str in memory


def _raw_entry(data: Any, body: Any) -> Entry:
    """The entry's own fields, undecoded (FastStream's envelope format: its body)."""
    if _native(data):
        return dict(data)
    if isinstance(body, Mapping):
        return body
    return {"raw": repr(body if body is not None else data)[:10_000]}


def _size(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    text = str(value)
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


ATTRIBUTES_ROOM = 64 * 1024  # bytes an entry may carry beside its `data`


def too_large(raw: Entry, limit: int) -> str | None:
    """Why an entry is over `limit` bytes of `data` (plus ATTRIBUTES_ROOM for the rest), or
    None when it is not."""
    data = next((v for k, v in raw.items() if k in ("data", b"data")), b"")
    if (size := _size(data)) > limit:
        return f"'data' is {size} bytes, over the limit of {limit} bytes"
    total = sum(_size(k) + _size(v) for k, v in raw.items())
    if total > limit + ATTRIBUTES_ROOM:
        return f"the entry is {total} bytes, over the limit of {limit + ATTRIBUTES_ROOM} bytes"
    return None


def _as_bytes(value: Any) -> bytes:
    return bytes(value) if isinstance(value, bytes | bytearray) else str(value).encode()


def _cut(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class _StreamSub(StreamSub):
    """FastStream's StreamSub, minus a deep copy of itself on every read.

    The subscriber asks for its StreamSub "with the broker's prefix" several times per
    read, and each answer is a deepcopy; galley's brokers have no prefix, so the
    original serves (FastStream only reads it)."""

    def add_prefix(self, prefix: str) -> Any:
        return self if not prefix else super().add_prefix(prefix)


@dataclass
class StreamConsumer:
    """Registers the reader and the claimer of one stream in one group."""

    broker: RedisBroker
    stream: str
    group: str
    consumer: str
    routes: Mapping[str, Route]
    dead_letters: Callable[[], DeadLetters]
    # The service's Database: each read is handled as one batch in it (one commit).
    db: Callable[[], Database]
    max_records: int = 100
    claim_idle_ms: int = 60_000  # the service's settings give it (GALLEY_CLAIM_IDLE_MS)
    max_deliveries: int = 5  # likewise (GALLEY_MAX_DELIVERIES)
    # Called after an entry is dead-lettered (fields, reason, entry id), e.g. to emit a rejection.
    on_parked: Callable[[Mapping[str, str], str, str | None], Awaitable[None]] | None = None
    # Called after a batch committed (e.g. wake the outbox relay).
    after_commit: Callable[[], None] | None = None
    # Bytes of `data` an entry may carry (plus ATTRIBUTES_ROOM); a larger one is parked at once.
    max_entry_bytes: int | None = None
    # Refuse `data` with a property twice in one object (input from outside galley).
    strict_json: bool = False
    # The last handler error per entry id, so a dead letter says why it failed.
    _last_error: dict[str, str] = field(default_factory=dict, repr=False)

    def register(self) -> None:
        new_sub = self.broker.subscriber(
            stream=_StreamSub(
                self.stream,
                group=self.group,
                consumer=self.consumer,
                max_records=self.max_records,
                polling_interval=100,
                batch=True,
            ),
            ack_policy=AckPolicy.MANUAL,
            title=f"{self.stream}:{self.group}",
            description=_described(self.stream, self.group),
        )
        claim_sub = self.broker.subscriber(
            stream=_StreamSub(
                self.stream,
                group=self.group,
                consumer=f"{self.consumer}-claim",
                min_idle_time=self.claim_idle_ms,
                polling_interval=1000,
            ),
            ack_policy=AckPolicy.MANUAL,
            include_in_schema=False,  # the same stream and group as the reader's
        )
        self.subscribers = (new_sub, claim_sub)

        # Handlers take only the body and read the message from the broker's context:
        # a `msg: RedisStreamMessage` parameter is a FastDepends custom field, which it
        # resolves on a worker thread, one thread hop per read.
        async def read_new(entries: list[StreamEntry]) -> None:
            await self.process_batch(entries, self._message())

        # What the AsyncAPI document shows as the payload: the stream's event (an entry
        # is a CloudEvents event; galley decodes it itself, FastStream casts nothing).
        read_new.__annotations__ = {"entries": _payload_of(self.stream), "return": None}
        read_new = new_sub(read_new)

        @claim_sub
        async def reclaim(entry: StreamEntry) -> None:
            msg: RedisStreamMessage = self._message()
            deliveries = await msg.get_delivery_count()
            if deliveries > self.max_deliveries:
                last = self._last_error.pop(entry.id or "", "error not seen by this process")
                reason = f"handler failed {deliveries - 1} times: {last}"
                await self._park_entry(entry.fields, entry.id, reason)
                await msg.ack()
                return
            # Same lock order as the reader's batch (the database's writer lock first),
            # so a handler's own locks can never deadlock against a running batch.
            async with self.db().batch():
                ok = await self._handle(entry.fields, entry.id)
            if ok:
                await msg.ack()
            if self.after_commit is not None:
                self.after_commit()

        self.read_new = read_new
        self.reclaim = reclaim

    def _message(self) -> Any:
        """The message being handled (FastStream keeps it in the broker's context)."""
        return self.broker.context.get_local("message")

    async def heal(self, redis: Any) -> bool:
        """Recreate a vanished stream/group (Redis restarted empty) and restart stopped readers.

        FastStream stops a subscriber whose group is gone; galley brings it back
        instead of leaving the service deaf. Returns True if anything was restarted.
        """
        stopped = [s for s in self.subscribers if not s.running]
        if not stopped:
            return False
        await ensure_group(redis, self.stream, self.group)
        for sub in stopped:
            log.warning(
                "restarting reader of %s/%s after its group vanished", self.stream, self.group
            )
            await sub.start()
        return True

    async def _park_entry(self, raw: Entry, entry_id: str | None, reason: str) -> None:
        """Dead-letter an entry with its original fields; one that is not UTF-8 is kept as
        readable text and, to be restored exactly, as its bytes (`original`)."""
        exact: dict[str, Any] = {}
        try:
            fields = fields_from_entry(raw)
        except EnvelopeError:
            fields = readable_fields(raw)
            exact["original"] = {_as_bytes(k): _as_bytes(v) for k, v in raw.items()}
        await self.dead_letters().park(
            fields, reason=reason, entry_id=entry_id, stream=self.stream, group=self.group, **exact
        )
        log.error(
            "dead-lettered entry %s of %s: %s",
            entry_id,
            self.stream,
            reason,
            extra={"event_id": fields.get("id"), "subject": fields.get("subject")},
        )
        if self.on_parked is not None:
            await self.on_parked(fields, reason, entry_id)

    async def process_batch(self, entries: list[StreamEntry], msg: Any) -> None:
        """A whole read in ONE transaction; XACK what was handled or parked, after COMMIT.

        Each handler's own `transaction()` is a savepoint of the batch, so an entry
        whose handler fails rolls back alone and stays pending for the claimer.
        """
        done: list[str] = []
        async with self.db().batch():
            for raw, entry_id in ((entry.fields, entry.id) for entry in entries):
                try:
                    ok = await self._handle(raw, entry_id)
                except Exception as exc:  # e.g. the dead-letter stream unreachable
                    log.exception("entry %s of %s left pending", entry_id, self.stream)
                    self._remember_error(entry_id, exc)
                    ok = False
                if ok and entry_id is not None:
                    done.append(entry_id)
        if done:
            await msg.consumer.xack(self.stream, self.group, *done)
        # Wake the relay (and dispatchers) only after the XACK: then nothing downstream
        # can finish an entry whose upstream entry still shows as pending.
        if self.after_commit is not None:
            self.after_commit()

    async def _handle(self, raw: Entry, entry_id: str | None) -> bool:
        """Run (or park) one entry; True when it may be acknowledged."""
        token = _current_entry_id.set(entry_id)
        data = next((v for k, v in raw.items() if k in ("data", b"data")), b"")
        size = _current_entry_bytes.set(_size(data))
        try:
            return await self._dispatch(raw, entry_id)
        finally:
            _current_entry_bytes.reset(size)
            _current_entry_id.reset(token)

    async def _dispatch(self, raw: Entry, entry_id: str | None) -> bool:
        """Decode, route and handle one entry. What can never succeed is parked at once,
        its reason starting with what went wrong: `too-large`, `undecodable` (not UTF-8, not
        JSON galley reads, no type), `unsupported` (a CloudEvents specversion other than
        1.0), `unknown-type`, `schema` or `unprocessable` (the handler found it so). Only a
        handler failure that may pass later is left pending for the claimer to retry."""
        if not self.routes:  # no handlers yet (the service has not started): not now
            log.warning("entry %s of %s left pending: no handlers yet", entry_id, self.stream)
            return False
        if self.max_entry_bytes is not None and (why := too_large(raw, self.max_entry_bytes)):
            await self._park_entry(raw, entry_id, f"too-large: {why}")
            return True
        try:
            env = from_fields(raw, unique_keys=self.strict_json)
            route = self.routes.get(env.type)
            if route is None:
                known = ", ".join(sorted(self.routes)) or "nothing"
                await self._park_entry(
                    raw,
                    entry_id,
                    f"unknown-type: {_cut(env.type)!r} is not an event type of {self.stream}"
                    f" (it carries {known})",
                )
                return True
            event = typed(env, route.model)
        except EnvelopeError as exc:
            await self._park_entry(raw, entry_id, f"{exc.kind}: {exc}")
            return True
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "/".join(str(p) for p in first["loc"])
            await self._park_entry(raw, entry_id, f"schema: {where}: {first['msg']}")
            return True
        try:
            await route.handle(event)
        except PERMANENT_FAILURES as exc:
            log.exception(
                "handler refused %s %s for good",
                env.type,
                env.subject,
                extra={"event_id": env.id, "subject": env.subject},
            )
            self._last_error.pop(entry_id or "", None)
            await self._park_entry(
                raw, entry_id, f"unprocessable: {type(exc).__name__}: {_cut(str(exc), 500)}"
            )
            return True
        except Exception as exc:
            # Left pending: the claimer retries it, then dead-letters it.
            log.exception(
                "handler failed for %s %s",
                env.type,
                env.subject,
                extra={"event_id": env.id, "subject": env.subject},
            )
            self._remember_error(entry_id, exc)
            return False
        self._last_error.pop(entry_id or "", None)
        return True

    def _remember_error(self, entry_id: str | None, exc: Exception) -> None:
        if entry_id is None:
            return
        if len(self._last_error) >= 10_000:  # bounded: forget the oldest
            self._last_error.pop(next(iter(self._last_error)))
        self._last_error[entry_id] = f"{type(exc).__name__}: {exc}"[:500]
