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


def send(url: str, key: str | None, doc: Any) -> tuple[int, str]:
    """The answer's status, and the story's page URL when it was accepted. A 429 or 503
    is waited out as its Retry-After says, a few times."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    for _ in range(10):
        try:
            response = httpx.post(
                url.rstrip("/") + "/v1/articles", json=doc, headers=headers, timeout=30
            )
        except httpx.HTTPError as exc:
            from galley.cli import Unreachable, reason

            raise Unreachable(
                f"cannot reach ingest at {url} ({reason(exc)}); check the URL given to --post."
            ) from None
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
            try:
                reading.page = httpx.get(reading.url, timeout=10).status_code
            except httpx.HTTPError as exc:
                from galley.cli import Unreachable, reason

                raise Unreachable(
                    f"cannot reach the story's page at {reading.url} ({reason(exc)}); is"
                    " publish running, and does PUBLISH_BASE_URL name where it listens?"
                ) from None
        pending = [r for r in pending if r.page != 200]
        if pending and time.monotonic() < deadline:
            time.sleep(0.5)
        else:
            break


def main(argv: list[str] | None = None) -> int:
    """`python -m galley.conformance ...` is `galley check-ninjs ...` (see its --help)."""
    from galley.cli import main as galley

    return galley(["check-ninjs", *(sys.argv[1:] if argv is None else argv)])


def check(
    paths: list[Path],
    *,
    post: str | None = None,
    key: str | None = None,
    fresh_uris: bool = False,
    wait: float = 30.0,
    as_json: bool = False,
) -> int:
    """Read (and with `post`, send) every document under `paths`; print one reading each."""
    from galley.cli import progress

    found = list(documents(paths))
    readings = []
    with progress() as bar:
        task = bar.add_task("posting" if post else "reading", total=len(found))
        for n, (label, doc) in enumerate(found):
            reading = read(label, doc)
            if post and not isinstance(doc, Exception):
                sent = fresh_uri(doc, n) if fresh_uris else doc
                reading.posted, reading.url = send(post, key, sent)
            readings.append(reading)
            bar.advance(task)
    if post:
        pages(readings, wait)
    for reading in readings:
        label = reading.file
        if as_json:
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
    if post:
        answered = sum(r.posted in (200, 202) for r in readings)
        shown = sum(r.page == 200 for r in readings)
        print(
            f"posted: {answered} of {len(readings)} accepted by ingest; {shown} pages published",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
