"""A downstream subscriber of `articles.published` in plain redis-py (no galley imports).

    python examples/subscriber.py redis://127.0.0.1:6379/0 [--group NAME] [--max N]

Each entry's fields are CloudEvents attributes (id, type, subject, time, ...)
plus `data`, the published article as JSON. The group starts at id 0, so a new
subscriber first gets the whole history; entries are acknowledged after they
are handled, and an event id seen before (a re-sent duplicate) is skipped.
"""

from __future__ import annotations

import argparse
import json

import redis

STREAM = "articles.published"  # the stream contract: see docs/subscribers.md


def handle(fields: dict[str, str]) -> None:
    article = json.loads(fields["data"])
    action = "REMOVE" if fields["type"] == "article.killed" else "UPSERT"
    print(
        action,
        fields["type"],
        fields["subject"],
        f"v{article['version']}",
        article["url"],
        flush=True,
    )


def run(url: str, group: str, limit: int | None) -> None:
    r = redis.Redis.from_url(url, decode_responses=True)
    try:
        r.xgroup_create(STREAM, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    seen: set[str] = set()  # keep this in your own database to survive restarts
    position = "0"  # first what this consumer left unacknowledged, then new entries (">")
    while limit is None or len(seen) < limit:
        reply = r.xreadgroup(group, "example", {STREAM: position}, count=10, block=5000)
        entries = reply[0][1] if reply else []
        if position == "0" and not entries:
            position = ">"
        for entry_id, fields in entries:
            if fields["id"] not in seen:
                handle(fields)
                seen.add(fields["id"])
            r.xack(STREAM, group, entry_id)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("redis_url")
    parser.add_argument("--group", default="example-subscriber")
    parser.add_argument("--max", type=int, default=None, help="stop after N distinct events")
    args = parser.parse_args()
    run(args.redis_url, args.group, args.max)
