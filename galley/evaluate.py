"""Measure related links on real news: quality in archive mode, then cost at scale.

    python -m galley.evaluate /path/to/news_cluster/articles.jsonl [--skip-scale]

Quality: the corpus is replayed in publication order; each article is ranked
against the articles replayed before it, by the enrichment ranking and by a
plain TF-IDF cosine baseline in the same run. The relevant set of an article is
the earlier articles of the same event. Prints P@1, P@5, R-precision and MAP.

Scale: archives of 1k, 10k and 100k articles are synthesized by recombining the
corpus (headline of one article, paragraphs of others of the same event), then
one query's latency (p50/p99) and the process memory are printed.
The corpus is read from the given path only; nothing of it is stored.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.enrichment.related import DEFAULT, STOPWORDS, Doc, Params, RelatedIndex

# --- the corpus -----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    doc: Doc
    event: int


def _date(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load(path: Path) -> list[Item]:
    """The corpus in replay order: publication date, then id."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows.sort(key=lambda r: (r["date_publish"], r["id"]))
    return [
        Item(
            Doc(
                uri=r["id"], slug=r["id"], headline=r.get("title") or "",
                subheadline=r.get("description") or "", body=r.get("text") or "",
                subjects=(r["category"],) if r.get("category") else (),
                published=_date(r["date_publish"]),
            ),
            int(r["event_id"]),
        )
        for r in rows
    ]


# --- metrics ----------------------------------------------------------------------


@dataclass
class Quality:
    p1: float = 0.0
    p5: float = 0.0
    r_precision: float = 0.0
    map: float = 0.0
    queries: int = 0


def average_precision(ranked: Sequence[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for i, uri in enumerate(ranked, start=1):
        if uri in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant)


def quality(rankings: Sequence[tuple[Sequence[str], set[str]]]) -> Quality:
    q = Quality(queries=len(rankings))
    for ranked, relevant in rankings:
        q.p1 += float(bool(ranked) and ranked[0] in relevant)
        q.p5 += sum(1 for u in ranked[:5] if u in relevant) / 5
        q.r_precision += sum(1 for u in ranked[: len(relevant)] if u in relevant) / len(relevant)
        q.map += average_precision(ranked, relevant)
    n = max(q.queries, 1)
    q.p1, q.p5, q.r_precision, q.map = q.p1 / n, q.p5 / n, q.r_precision / n, q.map / n
    return q


# --- the baseline: plain TF-IDF cosine over title + text ----------------------------

_PLAIN = re.compile(r"(?u)\b\w\w+\b")


class TfidfBaseline:
    """Sublinear tf x smoothed idf over the whole corpus, stop words out, l2, cosine."""

    def __init__(self, items: Sequence[Item]) -> None:
        bags = {it.doc.uri: Counter(t for t in _PLAIN.findall(
                    f"{it.doc.headline} {it.doc.body}".lower()) if t not in STOPWORDS)
                for it in items}
        df: Counter[str] = Counter()
        for bag in bags.values():
            df.update(bag.keys())
        n = len(bags)
        idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self._vectors = {uri: _normalised({t: (1 + math.log(tf)) * idf[t]
                                           for t, tf in bag.items()})
                         for uri, bag in bags.items()}

    def rank(self, uri: str, archive: Sequence[str]) -> list[str]:
        query = self._vectors[uri]
        scored = [(sum(w * self._vectors[o].get(t, 0.0) for t, w in query.items()), o)
                  for o in archive]
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [o for _s, o in scored]


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {t: w / norm for t, w in vector.items()}


# --- archive-mode replay -----------------------------------------------------------


def replay(items: Sequence[Item], params: Params = DEFAULT) -> tuple[Quality, Quality]:
    """(ours, baseline) over every article that has an earlier same-event article."""
    baseline = TfidfBaseline(items)
    index = RelatedIndex(params)
    ours: list[tuple[Sequence[str], set[str]]] = []
    theirs: list[tuple[Sequence[str], set[str]]] = []
    earlier: list[Item] = []
    for item in items:
        relevant = {e.doc.uri for e in earlier if e.event == item.event}
        if relevant:
            found = index.search(item.doc, now=item.doc.published or datetime.now(UTC),
                                 k=len(earlier))
            ours.append(([s.uri for s in found], relevant))
            theirs.append((baseline.rank(item.doc.uri, [e.doc.uri for e in earlier]), relevant))
        index.add(item.doc)
        earlier.append(item)
    return quality(ours), quality(theirs)


# --- scale ---------------------------------------------------------------------------


def synthesize(items: Sequence[Item], count: int, seed: int = 7) -> Iterator[Doc]:
    """`count` articles recombined from the corpus: one headline, paragraphs of three.

    A generator, so a 100k archive is never held as text: only the index is measured.
    """
    rng = random.Random(seed)
    paragraphs = [[p for p in it.doc.body.split("\n") if p.strip()] or [it.doc.body]
                  for it in items]
    start = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    for n in range(count):
        picks = rng.sample(range(len(items)), 3)
        body = "\n".join(
            para for i in picks for para in rng.sample(paragraphs[i], min(4, len(paragraphs[i])))
        )
        head = items[picks[0]].doc
        yield Doc(
            uri=f"urn:synthetic:{n}", slug=f"synthetic-{n}", headline=head.headline,
            subheadline=head.subheadline, body=body, subjects=head.subjects,
            published=datetime.fromtimestamp(start + n * 600, tz=UTC),
        )


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def measure(items: Sequence[Item], size: int, queries: int = 500) -> dict[str, float]:
    docs = synthesize(items, size + queries)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = RelatedIndex()
    for doc in itertools.islice(docs, size):
        index.add(doc)
    build_s = time.perf_counter() - started
    probes = list(docs)
    gc.collect()
    gc.freeze()  # the index is long-lived: keep it out of the collector's scans (as the service)
    for probe in probes[:20]:  # warm up
        index.search(probe, now=probe.published or datetime.now(UTC), k=5)
    latencies = []
    for probe in probes:
        t0 = time.perf_counter()
        index.search(probe, now=probe.published or datetime.now(UTC), k=5)
        latencies.append((time.perf_counter() - t0) * 1000)
    return {"size": size, "build_s": build_s, "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99), "index_mb": rss_mb() - before,
            "rss_mb": rss_mb()}


# --- output -----------------------------------------------------------------------------


def _row(name: str, q: Quality) -> str:
    return f"  {name:<22} {q.p1:6.3f} {q.p5:6.3f} {q.r_precision:8.3f} {q.map:6.3f}"


def report_quality(path: Path, out: Callable[[str], Any] = print) -> tuple[Quality, Quality]:
    items = load(path)
    ours, base = replay(items)
    out(f"Related links, archive mode: {len(items)} articles, {ours.queries} queries "
        "(articles with an earlier same-event article)")
    out(f"  {'method':<22} {'P@1':>6} {'P@5':>6} {'R-prec':>8} {'MAP':>6}")
    out(_row("enrichment (BM25+)", ours))
    out(_row("TF-IDF cosine baseline", base))
    return ours, base


def report_scale(path: Path, sizes: Sequence[int], out: Callable[[str], Any] = print) -> None:
    items = load(path)
    out("Cost of one related-links query (k=5), synthetic archives recombined from the corpus")
    out(f"  {'archive':>8} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'index MB':>9} "
        f"{'RSS MB':>7}")
    for size in sizes:
        m = measure(items, size)
        out(f"  {size:>8,} {m['build_s']:>8.1f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f} "
            f"{m['index_mb']:>9.1f} {m['rss_mb']:>7.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="galley evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="news_cluster articles.jsonl")
    parser.add_argument("--skip-scale", action="store_true", help="quality only")
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="synthetic archive sizes (comma separated)")
    args = parser.parse_args(argv)
    if not args.corpus.is_file():
        print(f"error: corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    report_quality(args.corpus)
    if not args.skip_scale:
        print()
        report_scale(args.corpus, [int(s) for s in args.sizes.split(",") if s.strip()])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
