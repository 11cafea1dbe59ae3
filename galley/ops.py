"""Operator views over Redis: stream and group status, dead letters, one article's path.

Everything here reads the streams directly, so it works the same against the
embedded Redis of `galley up`, a compose deployment or any Redis galley uses.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis as sync_redis

from shared import names
from shared.infra.streams import entries, text

PIPELINE_STREAMS = (
    names.NEWSROOM_SUBMISSIONS,
    names.ARTICLES_INGESTED,
    names.AUTHORS_UPDATED,
    names.ARTICLES_REJECTED,
    names.ARTICLES_ENRICHED,
    names.ARTICLES_PUBLISHED,
    names.ASSETS_STORED,
)
DLQ_PREFIX = names.dead_letter_stream("")
HOPS = (
    (names.NEWSROOM_SUBMISSIONS, "submitted on the input stream"),
    (names.ARTICLES_INGESTED, "accepted at ingest"),
    (names.ARTICLES_REJECTED, "rejected at ingest"),
    (names.ARTICLES_ENRICHED, "enriched"),
    (names.ARTICLES_PUBLISHED, "published"),
)


def entry_time(entry_id: str) -> datetime:
    """A stream entry id starts with the server's milliseconds since the epoch."""
    return datetime.fromtimestamp(int(entry_id.split("-")[0]) / 1000, UTC)


@dataclass
class GroupStatus:
    name: str
    lag: int | None
    pending: int
    oldest_pending_age_s: float | None
    consumers: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StreamStatus:
    name: str
    length: int
    groups: list[GroupStatus] = field(default_factory=list)


def _lag(client: sync_redis.Redis, stream: str, info: dict[str, Any], cap: int = 100_000) -> int:
    if info.get("lag") is not None:  # Redis 7+
        return int(info["lag"])
    last = info.get("last-delivered-id", "0-0")
    return len(entries(client.xrange(stream, min=f"({last}", max="+", count=cap)))


def stream_status(client: sync_redis.Redis, stream: str) -> StreamStatus:
    status = StreamStatus(stream, int(client.xlen(stream)))
    if not client.exists(stream):
        return status
    now = time.time()
    for info in client.xinfo_groups(stream):
        group = info["name"]
        oldest = None
        if int(info["pending"]):
            first = client.xpending_range(stream, group, min="-", max="+", count=1)
            if first:
                oldest = now - entry_time(text(first[0]["message_id"])).timestamp()
        consumers = [
            {"name": c["name"], "pending": int(c["pending"]), "idle_ms": int(c["idle"])}
            for c in client.xinfo_consumers(stream, group)
        ]
        status.groups.append(
            GroupStatus(group, _lag(client, stream, info), int(info["pending"]), oldest, consumers)
        )
    return status


def dead_letter_streams(client: sync_redis.Redis) -> list[str]:
    return sorted(str(k) for k in client.scan_iter(match=f"{DLQ_PREFIX}*", count=1000))


def service_health(targets: dict[str, int | str]) -> dict[str, str]:
    """Each service's readiness; a target is a port on 127.0.0.1 or a base URL."""
    out = {}
    for service, where in targets.items():
        base = where if isinstance(where, str) else f"http://127.0.0.1:{where}"
        try:
            with urllib.request.urlopen(f"{base}/health/ready", timeout=1) as resp:
                out[service] = "ready" if resp.status < 300 else f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            out[service] = f"not ready (HTTP {exc.code})"
        except OSError:
            out[service] = "down"
    return out


@dataclass
class DeadLetter:
    id: str
    stream: str
    fields: dict[str, str]

    @property
    def reason(self) -> str:
        return self.fields.get("dlq.reason", "")

    @property
    def origin(self) -> str:
        return self.fields.get("dlq.stream", "")

    @property
    def original_fields(self) -> dict[str, str]:
        return {
            k.removeprefix("orig."): v for k, v in self.fields.items() if not k.startswith("dlq.")
        }

    @property
    def original_entry(self) -> dict[str, str] | dict[bytes, bytes]:
        """The entry as it was on its stream: its exact bytes when some field of it was not
        UTF-8 (kept in `dlq.original`), else its fields."""
        from shared.infra.consumer import ORIGINAL, decode_original

        if ORIGINAL in self.fields:
            return decode_original(self.fields[ORIGINAL])
        return self.original_fields


def list_dead_letters(client: sync_redis.Redis, stream: str, count: int = 100) -> list[DeadLetter]:
    return [DeadLetter(i, stream, f) for i, f in entries(client.xrange(stream, count=count))]


def find_dead_letter(client: sync_redis.Redis, entry_id: str) -> DeadLetter | None:
    for stream in dead_letter_streams(client):
        found = entries(client.xrange(stream, min=entry_id, max=entry_id))
        if found:
            return DeadLetter(found[0][0], stream, found[0][1])
    return None


def retry_dead_letter(client: sync_redis.Redis, letter: DeadLetter) -> str:
    """Put the original entry back on its stream, byte for byte, then drop it from the DLQ."""
    if not letter.origin:
        raise ValueError(f"dead letter {letter.id} does not say which stream it came from")
    pipe = client.pipeline(transaction=True)
    pipe.xadd(letter.origin, letter.original_entry)  # type: ignore[arg-type]
    pipe.xdel(letter.stream, letter.id)
    new_id, _ = pipe.execute()
    return str(new_id)


@dataclass
class Hop:
    stream: str
    label: str
    entry_id: str
    type: str
    version: int | None
    time: datetime
    event_id: str = ""
    traceparent: str = ""


def trace(client: sync_redis.Redis, uri: str, scan_count: int = 1000) -> list[Hop]:
    """Every hop of one article through the streams, in time order."""
    hops: list[Hop] = []
    for stream, label in HOPS:
        last = "-"
        while True:
            batch = entries(client.xrange(stream, min=last, max="+", count=scan_count))
            if last != "-":
                batch = batch[1:]
            if not batch:
                break
            for entry_id, fields in batch:
                if _subject_of(fields) == uri:
                    hops.append(
                        Hop(
                            stream,
                            label,
                            entry_id,
                            fields.get("type", ""),
                            _version_of(fields),
                            entry_time(entry_id),
                            fields.get("id", ""),
                            fields.get("traceparent", ""),
                        )
                    )
            last = batch[-1][0]
    hops.sort(key=lambda h: (h.time, h.entry_id))
    return hops


def _subject_of(fields: dict[str, str]) -> str | None:
    if "subject" in fields:
        return fields["subject"]
    try:
        data = json.loads(fields.get("data", ""))
    except ValueError:
        return None
    return data.get("uri") if isinstance(data, dict) else None


def _version_of(fields: dict[str, str]) -> int | None:
    try:
        version = json.loads(fields.get("data", "{}")).get("version")
        return int(version) if version is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


# --- deliveries to webhook subscribers -------------------------------------------------------

WEBHOOKS_DB = "webhooks.db"


def delivery_hops(deliveries: list[dict[str, Any]], published: list[Hop]) -> list[Hop]:
    """One hop per delivery of this article's events: when it was delivered (or its last
    attempt, or when it was queued), to which subscriber, in which state."""
    versions = {h.event_id: h.version for h in published if h.event_id}
    hops = []
    for d in deliveries:
        attempts = d.get("history") or []
        when = attempts[-1]["at"] if attempts else d.get("created_at")
        if not when:
            continue
        state = d.get("state", "")
        verb = {
            "delivered": "delivered",
            "pending": "delivery pending",
            "failed": "delivery failed",
            "disabled": "delivery stopped",
        }.get(state, state)
        where = d.get("url") or d.get("subscription_id", "")
        status = f" (HTTP {d['last_status']})" if d.get("last_status") else ""
        hops.append(
            Hop(
                "webhooks",
                f"{verb} to {where}{status}",
                d.get("id", ""),
                d.get("event_type", ""),
                versions.get(d.get("event_id", "")),
                _parse_time(when),
                d.get("event_id", ""),
            )
        )
    return hops


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def deliveries_over_http(base_url: str, uri: str, timeout: float = 2.0) -> list[dict[str, Any]]:
    """Every delivery of `uri`'s events, from the webhooks service's HTTP API."""
    subs = _get_json(f"{base_url}/v1/subscriptions", timeout)
    out = []
    for sub in subs:
        for d in _get_json(
            f"{base_url}/v1/subscriptions/{sub['id']}/deliveries?limit=1000", timeout
        ):
            if d.get("subject") == uri:
                out.append({**d, "subscription_id": sub["id"], "url": sub.get("url")})
    return out


def deliveries_from_db(path: str, uri: str) -> list[dict[str, Any]]:
    """The same, read-only from the webhooks service's SQLite file (no service needed)."""
    from services.webhooks.store import deliveries_of_subject

    return deliveries_of_subject(path, uri)


def _get_json(url: str, timeout: float) -> Any:
    """GET a JSON document; the webhooks admin key (WEBHOOKS_ADMIN_KEY) goes along if set."""
    key = os.environ.get("WEBHOOKS_ADMIN_KEY", "")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=timeout
    ) as resp:
        return json.loads(resp.read())


def full_trace(
    client: sync_redis.Redis,
    uri: str,
    *,
    webhooks_url: str | None = None,
    data_dir: str | None = None,
) -> tuple[list[Hop], str]:
    """Stream hops plus webhook deliveries, in time order, and where deliveries came from."""
    hops = trace(client, uri)
    deliveries: list[dict[str, Any]] = []
    source = "no webhooks data"
    if webhooks_url:
        try:
            deliveries = deliveries_over_http(webhooks_url, uri)
            source = f"webhooks service at {webhooks_url}"
        except (OSError, ValueError):
            deliveries = []
    if source == "no webhooks data" and data_dir:
        import os

        path = os.path.join(data_dir, WEBHOOKS_DB)
        if os.path.exists(path):
            deliveries = deliveries_from_db(path, uri)
            source = f"{path} (read-only)"
    published = [h for h in hops if h.stream == names.ARTICLES_PUBLISHED]
    hops = hops + delivery_hops(deliveries, published)
    hops.sort(key=lambda h: h.time)
    return hops, source
