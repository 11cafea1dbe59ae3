"""Compare the ledger with publish's final state and with the articles.published stream.

Four counts, as in Kafka's system tests and the RabbitMQ Jepsen checker:

* lost: an acknowledged story whose final acknowledged version is not what publish
  holds (live, or killed), or whose last event on the stream does not carry it;
* duplicated: an event id seen twice on the stream, or the same
  (uri, version, enrichment_revision, type) published twice;
* out-of-order: per uri, the (version, enrichment_revision) of successive events
  does not strictly increase;
* unexpected: an event or a live article for a (uri, version) never acknowledged.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from galley.chaos.workload import Ledger
from shared import names
from shared.infra.streams import text


@dataclass(frozen=True)
class Published:
    entry_id: str
    event_id: str
    type: str
    uri: str
    version: int
    revision: int


@dataclass
class Report:
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    events: int = 0
    stories: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "out_of_order": len(self.out_of_order),
            "unexpected": len(self.unexpected),
        }

    @property
    def ok(self) -> bool:
        return not any(self.counts.values())


def read_published(redis: Any) -> list[Published]:
    """A subscriber reading articles.published from 0 with plain XRANGE."""
    out: list[Published] = []
    start = "-"
    while True:
        batch = redis.xrange(names.ARTICLES_PUBLISHED, min=start, count=1000)
        if not batch:
            return out
        for entry_id, raw in batch:
            fields = {text(k): text(v) for k, v in raw.items()}
            data = json.loads(fields.get("data", "{}"))
            out.append(
                Published(
                    text(entry_id),
                    fields.get("id", ""),
                    fields.get("type", ""),
                    data.get("uri", fields.get("subject", "")),
                    int(data.get("version", 0)),
                    int(data.get("enrichment_revision", 0)),
                )
            )
        last = text(batch[-1][0])
        ms, seq = last.split("-")
        start = f"{ms}-{int(seq) + 1}"


def read_final_state(publish_db: Path) -> dict[str, tuple[int, bool, int | None]]:
    """uri -> (stored version, killed, live version or None), read-only."""
    conn = sqlite3.connect(f"file:{publish_db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT uri, version, killed, live FROM articles").fetchall()
    finally:
        conn.close()
    state = {}
    for uri, version, killed, live in rows:
        live_version = int(json.loads(live)["version"]) if live else None
        state[uri] = (int(version), bool(killed), live_version)
    return state


def check(
    ledger: Ledger, state: dict[str, tuple[int, bool, int | None]], events: list[Published]
) -> Report:
    report = Report(events=len(events), stories=len(ledger.articles))
    by_uri: dict[str, list[Published]] = {}
    for ev in events:
        by_uri.setdefault(ev.uri, []).append(ev)
    _duplicates(report, events)
    _order(report, by_uri)
    _lost(report, ledger, state, by_uri)
    _unexpected(report, ledger, state, events)
    return report


def _duplicates(report: Report, events: list[Published]) -> None:
    for event_id, n in Counter(ev.event_id for ev in events).items():
        if n > 1:
            report.duplicated.append(f"event id {event_id} appears {n} times")
    keys = Counter((ev.uri, ev.version, ev.revision, ev.type) for ev in events)
    for key, n in keys.items():
        if n > 1:
            report.duplicated.append(f"{key} published {n} times")


def _order(report: Report, by_uri: dict[str, list[Published]]) -> None:
    for uri, evs in by_uri.items():
        seen = [(ev.version, ev.revision) for ev in evs]
        if any(b <= a for a, b in itertools.pairwise(seen)):
            report.out_of_order.append(f"{uri}: {seen}")


def _lost(
    report: Report,
    ledger: Ledger,
    state: dict[str, tuple[int, bool, int | None]],
    by_uri: dict[str, list[Published]],
) -> None:
    for uri, versions in ledger.articles.items():
        final = max(versions)
        killed = versions[final] == "killed"
        stored = state.get(uri)
        evs = by_uri.get(uri, [])
        last = evs[-1] if evs else None
        if stored is None:
            report.lost.append(f"{uri}: v{final} acknowledged, publish never saw it")
        elif stored[0] != final or stored[1] != killed:
            report.lost.append(
                f"{uri}: v{final} ({versions[final]}) acknowledged, publish holds"
                f" v{stored[0]} killed={stored[1]}"
            )
        elif not killed and stored[2] != final:
            report.lost.append(f"{uri}: v{final} acknowledged, live is v{stored[2]}")
        elif not killed and (last is None or last.version != final):
            report.lost.append(
                f"{uri}: v{final} acknowledged, last event is {last and (last.type, last.version)}"
            )
        elif (
            killed
            and last is not None
            and (last.type != names.ARTICLE_KILLED or last.version != final)
        ):
            report.lost.append(
                f"{uri}: kill v{final} acknowledged, last event is {(last.type, last.version)}"
            )


def _unexpected(
    report: Report,
    ledger: Ledger,
    state: dict[str, tuple[int, bool, int | None]],
    events: list[Published],
) -> None:
    for ev in events:
        if ev.version not in ledger.articles.get(ev.uri, {}):
            report.unexpected.append(f"event {ev.type} {ev.uri} v{ev.version} never acknowledged")
    for uri, (version, _killed, _live) in state.items():
        if version not in ledger.articles.get(uri, {}):
            report.unexpected.append(f"publish holds {uri} v{version}, never acknowledged")
