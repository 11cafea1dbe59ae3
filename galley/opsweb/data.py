"""What the ops page shows, read from Redis and the services (no HTML here)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis as sync_redis

from galley import ops
from shared import names
from shared.infra.streams import entries

# The picture: services left to right, and the streams that join them.
SERVICES = (names.INGEST, names.ENRICHMENT, names.PUBLISH, names.WEBHOOKS)
EDGES = (  # (stream, from service or None for the newsroom, to service)
    (names.NEWSROOM_SUBMISSIONS, None, names.INGEST),
    (names.ARTICLES_INGESTED, names.INGEST, names.ENRICHMENT),
    (names.AUTHORS_UPDATED, names.INGEST, names.ENRICHMENT),
    (names.ARTICLES_ENRICHED, names.ENRICHMENT, names.PUBLISH),
    (names.ARTICLES_PUBLISHED, names.PUBLISH, names.WEBHOOKS),
)


@dataclass
class Overview:
    streams: dict[str, ops.StreamStatus]
    dead_letters: dict[str, int]  # service -> entries on its dead-letter stream
    health: dict[str, str]
    recent: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Config:
    redis_url: str
    ports: dict[str, int | str]  # where each service answers: a port on 127.0.0.1, or a URL
    webhooks_url: str | None = None
    data_dir: str | None = None


def overview(client: sync_redis.Redis, config: Config, recent: int = 15) -> Overview:
    streams = {name: ops.stream_status(client, name) for name in ops.PIPELINE_STREAMS}
    dead = {s: int(client.xlen(names.dead_letter_stream(s))) for s in SERVICES}
    return Overview(
        streams,
        dead,
        ops.service_health(config.ports),
        recent_articles(client, recent),
        recent_rejections(client, recent),
    )


def recent_rejections(client: sync_redis.Redis, limit: int) -> list[dict[str, Any]]:
    """The newest `article.rejected` events: what a newsroom sent that ingest refused."""
    found = []
    for entry_id, fields in entries(client.xrevrange(names.ARTICLES_REJECTED, count=limit)):
        try:
            data = json.loads(fields.get("data", "{}"))
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        found.append(
            {
                "time": ops.entry_time(entry_id),
                "source": str(data.get("source") or ""),
                "door": str(data.get("door") or ""),
                "problem": str(data.get("problem") or ""),
                "uri": str(data.get("uri") or ""),
                "reason": str(data.get("reason") or ""),
            }
        )
    return found


def recent_articles(client: sync_redis.Redis, limit: int) -> list[dict[str, Any]]:
    """The newest state of the most recently published articles, newest first."""
    seen: dict[str, dict[str, Any]] = {}
    for entry_id, fields in entries(client.xrevrange(names.ARTICLES_PUBLISHED, count=limit * 5)):
        subject = fields.get("subject")
        if not subject or subject in seen:
            continue
        try:
            data = json.loads(fields.get("data", "{}"))
        except ValueError:
            data = {}
        seen[subject] = {
            "uri": subject,
            "type": fields.get("type", ""),
            "headline": data.get("headline", ""),
            "version": data.get("version"),
            "url": data.get("url", ""),
            "time": ops.entry_time(entry_id),
        }
        if len(seen) >= limit:
            break
    return list(seen.values())


def trace(client: sync_redis.Redis, config: Config, uri: str) -> tuple[list[ops.Hop], str]:
    return ops.full_trace(client, uri, webhooks_url=config.webhooks_url, data_dir=config.data_dir)


def since(moment: datetime, before: datetime | None) -> str:
    return f"+{(moment - before).total_seconds() * 1000:.0f} ms" if before else ""
