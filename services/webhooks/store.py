"""SQLite state of the webhooks service: subscriptions, events, deliveries, attempts.

* `events` holds each event some subscription gets, once, with the exact body every
  attempt signs (an event nobody subscribes to is only marked processed).
* `deliveries` is one message to one subscription, unique per (subscription, event),
  so a stream entry handled twice never produces a second delivery.
* `received` remembers which subscription was sent which article, for kill fan-out.
* `attempts` is the per-try history shown in the delivery log.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from services.webhooks.domain import Subscription
from shared.infra.consumer import PROCESSED_SCHEMA, first_time_sync
from shared.infra.db import Database, Migration, run_sync

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    subject_filter TEXT,
    secret TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'active',
    disabled_reason TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events(event_id),
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    round_start INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT,
    next_attempt_at REAL,
    lease_until REAL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    at TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    PRIMARY KEY (delivery_id, n)
);
CREATE TABLE IF NOT EXISTS received (
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    PRIMARY KEY (subscription_id, subject)
);
-- every consumed event looks up who already got its article
CREATE INDEX IF NOT EXISTS received_subject ON received(subject);
"""

# schema versions of webhooks.db, in order (PRAGMA user_version: how many are applied);
# append a step for every change, never edit one that has shipped
MIGRATIONS: tuple[Migration, ...] = (SCHEMA + PROCESSED_SCHEMA,)

# A pending delivery is due when its time has come, no earlier delivery of the same
# article to the same subscription is still pending (per-article order holds) and no
# process holds a lease on an attempt to that subscription (one in flight each).
DUE_SQL = """
SELECT d.id, d.subscription_id, d.attempts, d.round_start, s.url, s.secret, e.body
FROM deliveries d
JOIN subscriptions s ON s.id = d.subscription_id
JOIN events e ON e.event_id = d.event_id
WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND s.state = 'active'
  AND NOT EXISTS (
    SELECT 1 FROM deliveries p JOIN events pe ON pe.event_id = p.event_id
    WHERE p.subscription_id = d.subscription_id AND p.state = 'pending'
      AND p.seq < d.seq AND pe.subject IS e.subject)
  AND NOT EXISTS (
    SELECT 1 FROM deliveries l
    WHERE l.subscription_id = d.subscription_id AND l.lease_until > ?)
ORDER BY d.seq
LIMIT ?
"""


@dataclass(frozen=True)
class Due:
    """A delivery ready for its next attempt, with what the attempt needs."""

    id: str  # also the `webhook-id`
    subscription_id: str
    attempts: int
    round_start: int
    url: str
    secret: str
    body: str


@dataclass(frozen=True)
class Outcome:
    """What one attempt changed."""

    status: int | None
    error: str | None
    state: str  # pending | delivered | failed | disabled
    next_attempt_at: datetime | None


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _subscription(row: aiosqlite.Row) -> Subscription:
    return Subscription(
        id=row["id"],
        url=row["url"],
        event_types=tuple(json.loads(row["event_types"])),
        subject_filter=row["subject_filter"],
        active=row["state"] == "active",
    )


def _public(row: aiosqlite.Row) -> dict[str, Any]:
    out = {
        k: row[k] for k in ("id", "url", "subject_filter", "state", "disabled_reason", "created_at")
    }
    out["event_types"] = json.loads(row["event_types"])
    return out


def _accept_event(
    conn: sqlite3.Connection,
    event_id: str,
    event_type: str,
    subject: str | None,
    body: Callable[[], str],
    now: datetime,
    pick: Callable[[list[Subscription], Collection[str]], list[str]],
) -> int:
    if not first_time_sync(conn, event_id):
        return 0
    subs = [
        _subscription(r)
        for r in conn.execute("SELECT * FROM subscriptions ORDER BY created_at, id").fetchall()
    ]
    if not subs:
        return 0
    received = {
        r[0]
        for r in conn.execute(
            "SELECT subscription_id FROM received WHERE subject = ?", (subject or "",)
        )
    }
    chosen = pick(subs, received)
    if not chosen:
        return 0
    conn.execute(
        "INSERT OR IGNORE INTO events(event_id, type, subject, body, received_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (event_id, event_type, subject, body(), now.isoformat()),
    )
    at, stamp = now.timestamp(), now.isoformat()
    conn.executemany(
        "INSERT OR IGNORE INTO deliveries(id, subscription_id, event_id,"
        " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(new_id("msg"), sub_id, event_id, at, stamp, stamp) for sub_id in chosen],
    )
    if subject:
        conn.executemany(
            "INSERT OR IGNORE INTO received(subscription_id, subject) VALUES (?, ?)",
            [(sub_id, subject) for sub_id in chosen],
        )
    return len(chosen)


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- subscriptions ---------------------------------------------------------
    async def add_subscription(self, sub: Subscription, secret: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO subscriptions(id, url, event_types, subject_filter, secret,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    sub.id,
                    sub.url,
                    json.dumps(list(sub.event_types)),
                    sub.subject_filter,
                    secret,
                    now.isoformat(),
                ),
            )

    async def subscriptions(self) -> list[dict[str, Any]]:
        rows = await self.db.fetchall("SELECT * FROM subscriptions ORDER BY created_at, id")
        return [_public(r) for r in rows]

    async def subscription(self, sub_id: str) -> dict[str, Any] | None:
        row = await self.db.fetchone("SELECT * FROM subscriptions WHERE id = ?", (sub_id,))
        return _public(row) if row else None

    async def delete_subscription(self, sub_id: str) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,))
            return bool(cur.rowcount)

    async def enable_subscription(self, sub_id: str) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE subscriptions SET state = 'active', disabled_reason = NULL WHERE id = ?",
                (sub_id,),
            )
            return bool(cur.rowcount)

    # --- consuming events -----------------------------------------------------
    async def accept_event(
        self,
        event_id: str,
        event_type: str,
        subject: str | None,
        body: Callable[[], str],
        now: datetime,
        pick: Callable[[list[Subscription], Collection[str]], list[str]],
    ) -> int:
        """Record an event and queue its deliveries, once; returns how many were queued.

        One `run_sync` unit of work. The body is made and stored only when
        some subscription gets the event: `events` exists for the deliveries' sake."""
        async with self.db.transaction() as conn:
            return await run_sync(
                conn, _accept_event, event_id, event_type, subject, body, now, pick
            )

    # --- dispatching ----------------------------------------------------------
    async def due(self, now: datetime, limit: int) -> list[Due]:
        at = now.timestamp()
        rows = await self.db.fetchall(DUE_SQL, (at, at, limit))
        return [Due(**dict(r)) for r in rows]

    async def lease(self, due: Due, now: datetime, seconds: float) -> bool:
        """Take the attempt for this process (replicas share the file); False if taken."""
        at = now.timestamp()
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE deliveries SET lease_until = ? WHERE id = ? AND attempts = ?"
                " AND state = 'pending' AND NOT EXISTS (SELECT 1 FROM deliveries l"
                " WHERE l.subscription_id = ? AND l.lease_until > ?)",
                (at + seconds, due.id, due.attempts, due.subscription_id, at),
            )
            return bool(cur.rowcount)

    async def release(self, due: Due) -> None:
        """Give an unfinished attempt back (shutdown), so it runs again without waiting."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE deliveries SET lease_until = NULL WHERE id = ? AND attempts = ?",
                (due.id, due.attempts),
            )

    async def record_attempt(self, due: Due, outcome: Outcome, at: datetime) -> None:
        """Log the attempt and move the delivery on; a 'disabled' outcome stops the endpoint."""
        n = due.attempts + 1
        next_at = outcome.next_attempt_at.timestamp() if outcome.next_attempt_at else None
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE deliveries SET state = ?, attempts = ?, last_status = ?, last_error = ?,"
                " next_attempt_at = ?, lease_until = NULL, updated_at = ?"
                " WHERE id = ? AND attempts = ?",
                (
                    outcome.state,
                    n,
                    outcome.status,
                    outcome.error,
                    next_at,
                    at.isoformat(),
                    due.id,
                    due.attempts,
                ),
            )
            if not cur.rowcount:  # deleted or redelivered meanwhile
                return
            await conn.execute(
                "INSERT INTO attempts(delivery_id, n, at, status, error) VALUES (?, ?, ?, ?, ?)",
                (due.id, n, at.isoformat(), outcome.status, outcome.error),
            )
            if outcome.state == "disabled":
                await self._disable(conn, due.subscription_id, outcome.error or "disabled")

    @staticmethod
    async def _disable(conn: aiosqlite.Connection, sub_id: str, reason: str) -> None:
        await conn.execute(
            "UPDATE subscriptions SET state = 'disabled', disabled_reason = ? WHERE id = ?",
            (reason, sub_id),
        )
        await conn.execute(
            "UPDATE deliveries SET state = 'disabled', next_attempt_at = NULL"
            " WHERE subscription_id = ? AND state = 'pending'",
            (sub_id,),
        )

    # --- the delivery log -----------------------------------------------------
    async def deliveries(
        self, sub_id: str, *, state: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        return await self._log(
            "d.subscription_id = ? AND (? IS NULL OR d.state = ?) ORDER BY d.seq DESC LIMIT ?",
            (sub_id, state, state, limit),
        )

    async def delivery(self, sub_id: str, delivery_id: str) -> dict[str, Any] | None:
        found = await self._log("d.subscription_id = ? AND d.id = ?", (sub_id, delivery_id))
        return found[0] if found else None

    async def _log(self, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT d.*, e.type AS event_type, e.subject FROM deliveries d"
            f" JOIN events e ON e.event_id = d.event_id WHERE {where}",
            params,
        )
        tries = await self._attempts([r["id"] for r in rows])
        return [_log_entry(r, tries.get(r["id"], [])) for r in rows]

    async def _attempts(self, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self.db.fetchall(
            f"SELECT * FROM attempts WHERE delivery_id IN ({marks}) ORDER BY delivery_id, n", ids
        )
        out: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(r["delivery_id"], []).append(
                {"n": r["n"], "at": r["at"], "status": r["status"], "error": r["error"]}
            )
        return out

    async def redeliver(self, sub_id: str, now: datetime, delivery_id: str | None = None) -> int:
        """Queue deliveries again now, with a fresh retry schedule and the same webhook-id.

        One delivery (any state but pending) or, without `delivery_id`, every failed one.
        """
        where = "id = ? AND state != 'pending'" if delivery_id else "state = 'failed'"
        params: tuple[Any, ...] = (delivery_id,) if delivery_id else ()
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE deliveries SET state = 'pending', round_start = attempts,"
                " next_attempt_at = ?, updated_at = ?"
                f" WHERE subscription_id = ? AND {where}",
                (now.timestamp(), now.isoformat(), sub_id, *params),
            )
            return int(cur.rowcount)


def _log_entry(row: aiosqlite.Row, tries: list[dict[str, Any]]) -> dict[str, Any]:
    next_at = row["next_attempt_at"]
    return {
        "id": row["id"],
        "webhook_id": row["id"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "subject": row["subject"],
        "state": row["state"],
        "attempts": row["attempts"],
        "last_status": row["last_status"],
        "last_error": row["last_error"],
        "next_attempt_at": (
            datetime.fromtimestamp(next_at, UTC).isoformat()
            if next_at is not None and row["state"] == "pending"
            else None
        ),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "history": tries,
    }


def deliveries_of_subject(path: str, uri: str) -> list[dict[str, Any]]:
    """Every delivery of the events about `uri`, with its attempts, read-only from the file
    (for `galley trace` and the ops page when the service does not answer)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            "SELECT d.id, d.event_id, d.state, d.last_status, d.created_at, d.subscription_id,"
            " s.url, e.type AS event_type, e.subject FROM deliveries d"
            " JOIN events e ON e.event_id = d.event_id"
            " LEFT JOIN subscriptions s ON s.id = d.subscription_id"
            " WHERE e.subject = ? ORDER BY d.seq",
            (uri,),
        ).fetchall()
        out = []
        for r in rows:
            tries = conn.execute(
                "SELECT n, at, status FROM attempts WHERE delivery_id = ? ORDER BY n", (r["id"],)
            ).fetchall()
            out.append({**dict(r), "history": [dict(t) for t in tries]})
        return out
    finally:
        conn.close()
