"""`galley check-ninjs PATH...`: how galley reads real newsroom documents.

Each JSON file (a ninjs document, or a list of them) under the given paths is
read by ingest's own rules, in this process, with no server: its dialect, item
type, and either what the page would show (headline, words, reading time, dates,
byline, media) or why ingest refuses it, with the pointer into the document.
With `--post URL` each document is also posted to a running ingest, and the
answer's status is shown beside the in-process reading; then the page of every
accepted story is fetched (until `--wait` seconds have passed) and its status shown
too. `--fresh-uris` gives each document a uri of its own, for example sets that
reuse one uri across files (IPTC's examples show one story in every dialect).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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
    first: str = ""  # the first date it carries: firstpublished, firstcreated, versioncreated
    modified: str = ""  # versioncreated
    byline: str = ""
    media: str = ""
    detail: str = ""
    posted: int | None = None
    page: int | None = None  # the story's page, once published
    url: str = ""


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
    first = article.firstpublished or article.firstcreated or article.versioncreated
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


def post(url: str, key: str | None, doc: Any) -> tuple[int, str]:
    """The answer's status, and the story's page URL when it was accepted. A 429 or 503
    is waited out as its Retry-After says, a few times."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    for _ in range(10):
        try:
            response = httpx.post(
                url.rstrip("/") + "/v1/articles", json=doc, headers=headers, timeout=30
            )
        except httpx.HTTPError as exc:
            raise SystemExit(f"galley check-ninjs: cannot post to {url}: {exc}") from None
        if response.status_code not in (429, 503):
            break
        time.sleep(float(response.headers.get("retry-after", "1")))
    page = response.json().get("url", "") if response.status_code == 202 else ""
    return response.status_code, page


def fresh_uri(doc: Any, n: int) -> Any:
    """The document with a uri (or Superdesk guid) of its own."""
    if not isinstance(doc, dict):
        return doc
    key = "uri" if "uri" in doc or "guid" not in doc else "guid"
    return {**doc, key: f"{doc.get(key, 'urn:check')}#check-{n}"}


def pages(readings: list[Reading], wait: float) -> None:
    """Fetch each accepted story's page until it answers 200 or `wait` runs out."""
    deadline = time.monotonic() + wait
    pending = [r for r in readings if r.url]
    while pending:
        for reading in pending:
            reading.page = httpx.get(reading.url, timeout=10).status_code
        pending = [r for r in pending if r.page != 200]
        if pending and time.monotonic() < deadline:
            time.sleep(0.5)
        else:
            break


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
    parser.add_argument(
        "--fresh-uris", action="store_true", help="with --post: give each document a uri of its own"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="with --post: seconds to wait for the pages of accepted stories",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per document")
    args = parser.parse_args(argv)
    readings = []
    for n, (label, doc) in enumerate(documents(args.paths)):
        reading = read(label, doc)
        if args.post and not isinstance(doc, Exception):
            sent = fresh_uri(doc, n) if args.fresh_uris else doc
            reading.posted, reading.url = post(args.post, args.key, sent)
        readings.append(reading)
    if args.post:
        pages(readings, args.wait)
    for reading in readings:
        label = reading.file
        if args.json:
            print(json.dumps(asdict(reading), ensure_ascii=False), flush=True)
        else:
            posted = f" [{reading.posted}]" if reading.posted is not None else ""
            posted += f" [page {reading.page}]" if reading.page is not None else ""
            what = (
                f"{reading.type:<9} {reading.headline[:60]!r} {reading.words}w"
                f" {reading.minutes}min dated={reading.first or '-'}"
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
    if args.post:
        answered = sum(r.posted in (200, 202) for r in readings)
        shown = sum(r.page == 200 for r in readings)
        print(
            f"posted: {answered} of {len(readings)} accepted by ingest; {shown} pages published",
            file=sys.stderr,
        )
    return 0
