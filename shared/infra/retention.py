"""Retention: what each service prunes, how long it keeps it, and the task that does it.

Nothing galley writes grows without bound:

* sent outbox rows go `outbox_retention_s` after they were sent (an unsent row never);
* processed event ids go `processed_retention_s` after they were handled;
* `articles.published` keeps `published_retention_s` of events (by entry id, i.e. by
  the time publish appended them), and never drops one a consumer group still has
  pending or unread;
* `articles.rejected` and the dead-letter streams `dlq.<service>` keep
  `rejected_retention_s` / `dlq_retention_s`, and at most about `stream_maxlen`
  entries each while no group reads them;
* galley's internal streams are trimmed to what their groups acknowledged by
  `keep_consuming` (`shared/infra/trim.py`); the outbox's guard keys expire by
  themselves (`DEDUP_TTL_S`).

The windows must outlast everything that can bring an event back: the outbox's repair
window (a Redis that forgot its last second, `outbox_repair_window_s`), the claimer
(`claim_idle_ms` x `max_deliveries`) and the guard keys (a relay re-sending after a
restart is deduplicated by Redis for `DEDUP_TTL_S`, then only by the consumers'
processed ids). The settings refuse windows shorter than that.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import names
from shared.infra.db import Database

log = logging.getLogger("galley.retention")

DAY = 24 * 3600.0


class RetentionSettings(BaseSettings):
    """Env prefix GALLEY_, shared by every service (e.g. GALLEY_OUTBOX_RETENTION_S)."""

    model_config = SettingsConfigDict(env_prefix="GALLEY_", extra="ignore")

    # rows sent this long before the newest sent row are re-checked when Redis is found
    # to have forgotten writes; covers Redis's fsync lag (about 1 s with everysec)
    outbox_repair_window_s: float = Field(60.0, ge=0)
    outbox_retention_s: float = Field(7 * DAY, gt=0)  # sent outbox rows
    processed_retention_s: float = Field(7 * DAY, gt=0)  # processed event ids
    published_retention_s: float = Field(30 * DAY, gt=0)  # articles.published
    rejected_retention_s: float = Field(7 * DAY, gt=0)  # articles.rejected
    dlq_retention_s: float = Field(30 * DAY, gt=0)  # dlq.<service>
    stream_maxlen: int = Field(100_000, ge=1)  # articles.rejected and dlq.*, no group
    retention_every_s: float = Field(600.0, gt=0)  # how often each service prunes

    @model_validator(mode="after")
    def _outlast_redelivery(self) -> RetentionSettings:
        from shared.infra.outbox import DEDUP_TTL_S

        if self.outbox_retention_s <= self.outbox_repair_window_s:
            raise ValueError(
                "GALLEY_OUTBOX_RETENTION_S must exceed GALLEY_OUTBOX_REPAIR_WINDOW_S"
                f" ({self.outbox_repair_window_s:g} s)"
            )
        # (each service's settings also check it against their consumers' redeliveries)
        floor = max(DEDUP_TTL_S, self.outbox_repair_window_s)
        if self.processed_retention_s <= floor:
            raise ValueError(
                f"GALLEY_PROCESSED_RETENTION_S must exceed {floor:g} s: the outbox's guard"
                " keys and the outbox's repair window"
            )
        return self

    def streams_of(self, service: str) -> dict[str, tuple[float, int | None]]:
        """The streams `service` trims by age: name -> (keep seconds, max length or None)."""
        streams: dict[str, tuple[float, int | None]] = {
            names.dead_letter_stream(service): (self.dlq_retention_s, self.stream_maxlen)
        }
        if service == names.INGEST:
            streams[names.ARTICLES_REJECTED] = (self.rejected_retention_s, self.stream_maxlen)
        if service == names.PUBLISH:  # subscribers rely on the age; no length cap
            streams[names.ARTICLES_PUBLISHED] = (self.published_retention_s, None)
        return streams


async def prune_oldest(
    db: Database, table: str, key: str, stamp: str, before: datetime, *, chunk: int = 1000
) -> int:
    """Delete the rows of `table` stamped (ISO 8601 UTC in `stamp`) before `before`.

    Rows are stamped roughly in `key` order, so the walk goes from the smallest key a
    chunk at a time (one short transaction each, so writers wait little) and stops at
    the first chunk holding a younger row. A row with no stamp is never deleted."""
    cutoff = before.astimezone(UTC).isoformat()
    removed = 0
    after: Any = None
    while True:
        where, params = ("", ()) if after is None else (f"WHERE {key} > ?", (after,))
        rows = await db.fetchall(
            f"SELECT {key} AS k, {stamp} AS t FROM {table} {where} ORDER BY {key} LIMIT ?",
            (*params, chunk),
        )
        if not rows:
            return removed
        old = [(row["k"], cutoff) for row in rows if row["t"] is not None and row["t"] < cutoff]
        if old:
            async with db.transaction() as conn:
                cursor = await conn.executemany(
                    f"DELETE FROM {table} WHERE {key} = ? AND {stamp} < ?", old
                )
                removed += max(cursor.rowcount, 0)
        if any(row["t"] is not None and row["t"] >= cutoff for row in rows):
            return removed
        after = rows[-1]["k"]


async def tables_of(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


async def tidy(
    service: str,
    db: Database | None,
    redis: Any,
    settings: RetentionSettings,
    *,
    now: datetime | None = None,
) -> dict[str, int]:
    """One round: prune the service's outbox and processed ids, trim its streams.
    Returns what went, by table or stream."""
    from shared.infra.consumer import prune_processed
    from shared.infra.outbox import prune_outbox
    from shared.infra.trim import trim_by_age

    moment = now or datetime.now(UTC)
    gone: dict[str, int] = {}
    if db is not None:
        tables = await tables_of(db)
        if "outbox" in tables:
            before = moment - timedelta(seconds=settings.outbox_retention_s)
            gone["outbox"] = await prune_outbox(db, before)
        if "processed_events" in tables:
            before = moment - timedelta(seconds=settings.processed_retention_s)
            gone["processed_events"] = await prune_processed(db, before)
    for stream, (keep_s, maxlen) in settings.streams_of(service).items():
        gone[stream] = await trim_by_age(redis, stream, keep_s=keep_s, maxlen=maxlen)
    return gone


async def keep_tidy(
    service: str,
    db: Database | None,
    redis: Any,
    settings: RetentionSettings,
) -> None:
    """Background task, until cancelled: `tidy` every `retention_every_s` seconds (the
    first round soon after start); a failing round is logged and tried again later."""
    delay = min(30.0, settings.retention_every_s)
    while True:
        await asyncio.sleep(delay)
        delay = settings.retention_every_s
        try:
            gone = await tidy(service, db, redis, settings)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis down, SQLite busy: next round
            log.warning("retention round of %s failed: %s", service, exc)
            continue
        if any(gone.values()):
            log.info(
                "retention: %s pruned %s",
                service,
                ", ".join(f"{n} from {what}" for what, n in gone.items() if n),
            )
