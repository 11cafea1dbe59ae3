"""`galley check-ninjs PATH...`: how galley reads real newsroom documents.

Each JSON file (a ninjs document, or a list of them) under the given paths is
read by ingest's own rules, in this process, with no server: its dialect, item
type, and either what the page would show (headline, words, reading time, dates,
byline, media) or why ingest refuses it, with the pointer into the document.
With `--post URL` each document is also posted to a running ingest, and the
answer's status is shown beside the in-process reading.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from services.ingest import domain


@dataclass
class Reading:
    file: str
    status: str  # "accepted" or the problem type
    dialect: str = ""
    type: str = ""
    headline: str = ""
    words: int = 0
    minutes: int = 0
    published: str = ""
    modified: str = ""
    byline: str = ""
    media: str = ""
    detail: str = ""
    posted: int | None = None


def documents(paths: list[Path]) -> Iterator[tuple[str, Any]]:
    """(label, document) for every JSON file under the paths; a list holds many."""
    for path in paths:
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        for file in files:
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                yield str(file), exc
                continue
            if isinstance(data, list):
                for i, doc in enumerate(data):
                    yield f"{file}[{i}]", doc
            else:
                yield str(file), data


def read(label: str, doc: Any) -> Reading:
    """One document read as ingest reads it (no store: pushed files count as absent)."""
    if isinstance(doc, Exception):
        return Reading(label, "unreadable", detail=str(doc))
    try:
        parsed = domain.parse_article(doc)
        article = domain.normalize(parsed, source="check")
    except domain.Invalid as exc:
        dialect = domain.dialects.detect(doc) if isinstance(doc, dict) else ""
        return Reading(label, exc.problem, dialect=dialect, detail=str(exc)[:300])
    first = article.firstpublished or article.firstcreated
    shown = article.media.type if article.media else ("lead picture" if article.lead_image else "")
    return Reading(
        label,
        "accepted",
        parsed.dialect,
        article.type,
        article.headline,
        article.word_count,
        article.reading_minutes,
        first.isoformat() if first else "",
        article.versioncreated.isoformat() if article.versioncreated else "",
        article.byline or ", ".join(article.author_names),
        shown,
    )


def post(url: str, key: str | None, doc: Any) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.post(url.rstrip("/") + "/v1/articles", json=doc, headers=headers, timeout=30)
    return response.status_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="galley check-ninjs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", type=Path, help="JSON files or folders of them")
    parser.add_argument(
        "--post",
        metavar="URL",
        help="also post each document to this ingest (e.g. http://127.0.0.1:8001)",
    )
    parser.add_argument("--key", help="API key for --post (else a loopback ingest without keys)")
    parser.add_argument("--json", action="store_true", help="one JSON object per document")
    args = parser.parse_args(argv)
    readings = []
    for label, doc in documents(args.paths):
        reading = read(label, doc)
        if args.post and not isinstance(doc, Exception):
            reading.posted = post(args.post, args.key, doc)
        readings.append(reading)
        if args.json:
            print(json.dumps(asdict(reading), ensure_ascii=False), flush=True)
        else:
            posted = f" [{reading.posted}]" if reading.posted is not None else ""
            what = (
                f"{reading.type:<9} {reading.headline[:60]!r} {reading.words}w"
                f" {reading.minutes}min pub={reading.published or '-'}"
                f" mod={reading.modified or '-'} by={reading.byline[:40]!r}"
                f" media={reading.media or '-'}"
                if reading.status == "accepted"
                else reading.detail
            )
            print(
                f"{reading.status:<22}{posted} {reading.dialect:<9} {label}\n    {what}", flush=True
            )
    accepted = sum(r.status == "accepted" for r in readings)
    print(f"{accepted} of {len(readings)} accepted", file=sys.stderr)
    return 0
