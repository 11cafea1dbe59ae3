"""Measure related links on real news: quality in archive mode, then cost at scale.

    galley evaluate /path/to/news_cluster/articles.jsonl [--skip-scale] [--sizes 1000,10000]

Quality: the corpus is replayed in publication order; each article is ranked
against the articles replayed before it, by the enrichment ranking and by a
plain TF-IDF cosine baseline in the same run. The relevant set of an article is
the earlier articles of the same event. Prints P@1, P@5, R-precision and MAP.

Relevance floor: what the floor in use (`Params.min_text_score`, `min_matched_terms`) does to
the links a reader sees (k=5): links shown, their precision (share of the same event) and
recall (share of the same-event stories that fit in k), the links it cuts and the articles
it leaves without a link, beside the same replay without a floor and a sweep of floors.

Same language: the corpus replayed once as English, once relabelled German and once
unlabelled (the same texts under other uris), counting links across languages: none may be.

Scale: archives of 1k, 10k and 100k articles are synthesized by recombining the
corpus (headline of one article, paragraphs of others of the same event), then
one query's latency (p50/p99) and the process memory are printed.
The corpus is read from the given path only; nothing of it is stored.
"""

from __future__ import annotations

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.enrichment.related import (
    DEFAULT,
    STOPWORDS,
    Doc,
    Params,
    RelatedIndex,
    Scored,
    language_key,
)

# --- the corpus -----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    doc: Doc
    event: int


def _date(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load(path: Path) -> list[Item]:
    """The corpus in replay order: publication date, then id.

    Every story is English; the corpus's own `language` field is the scraper's guess (missing
    on 61 stories, "de" on 2 English ones), so each is replayed as "en"."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows.sort(key=lambda r: (r["date_publish"], r["id"]))
    return [
        Item(
            Doc(
                uri=r["id"],
                slug=r["id"],
                headline=r.get("title") or "",
                subheadline=r.get("description") or "",
                body=r.get("text") or "",
                subjects=(r["category"],) if r.get("category") else (),
                published=_date(r["date_publish"]),
                language="en",
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
        bags = {
            it.doc.uri: Counter(
                t
                for t in _PLAIN.findall(f"{it.doc.headline} {it.doc.body}".lower())
                if t not in STOPWORDS
            )
            for it in items
        }
        df: Counter[str] = Counter()
        for bag in bags.values():
            df.update(bag.keys())
        n = len(bags)
        idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self._vectors = {
            uri: _normalised({t: (1 + math.log(tf)) * idf[t] for t, tf in bag.items()})
            for uri, bag in bags.items()
        }

    def rank(self, uri: str, archive: Sequence[str]) -> list[str]:
        query = self._vectors[uri]
        scored = [
            (sum(w * self._vectors[o].get(t, 0.0) for t, w in query.items()), o) for o in archive
        ]
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [o for _s, o in scored]


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {t: w / norm for t, w in vector.items()}


# --- archive-mode replay -----------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One replayed article: its whole ranking against the articles before it."""

    uri: str
    found: tuple[Scored, ...]
    relevant: frozenset[str]  # the earlier articles of the same event

    @property
    def ranking(self) -> list[str]:
        return [s.uri for s in self.found]


def _now(doc: Doc) -> datetime:
    return doc.published or datetime.now(UTC)


def ranked(items: Sequence[Item], params: Params = DEFAULT) -> list[Query]:
    """Every article, in replay order, ranked by enrichment against all earlier ones."""
    index = RelatedIndex(params)
    queries: list[Query] = []
    events: dict[int, set[str]] = {}
    for n, item in enumerate(items):
        relevant = frozenset(events.get(item.event, ()))
        found = index.search(item.doc, now=_now(item.doc), k=max(n, 1))
        queries.append(Query(item.doc.uri, tuple(found), relevant))
        index.add(item.doc)
        events.setdefault(item.event, set()).add(item.doc.uri)
    return queries


def ranking_quality(queries: Sequence[Query]) -> Quality:
    """P@1, P@5, R-precision and MAP over the articles with an earlier same-event article."""
    return quality([(q.ranking, set(q.relevant)) for q in queries if q.relevant])


def replay(items: Sequence[Item], params: Params = DEFAULT) -> tuple[Quality, Quality]:
    """(ours, baseline) over every article that has an earlier same-event article."""
    baseline = TfidfBaseline(items)
    theirs: list[tuple[Sequence[str], set[str]]] = []
    earlier: list[Item] = []
    for item in items:
        relevant = {e.doc.uri for e in earlier if e.event == item.event}
        if relevant:
            theirs.append((baseline.rank(item.doc.uri, [e.doc.uri for e in earlier]), relevant))
        earlier.append(item)
    return ranking_quality(ranked(items, params)), quality(theirs)


# --- the relevance floor ----------------------------------------------------------------

K = 5  # the links a reader sees (the service's default k)


@dataclass
class Shown:
    """The top-k links of every replayed article, judged by the corpus's events."""

    articles: int = 0
    with_relevant: int = 0  # articles with an earlier same-event article
    links: int = 0
    relevant_links: int = 0
    recall_sum: float = 0.0
    without_link: int = 0
    without_link_relevant: int = 0  # of those, articles with an earlier same-event article

    @property
    def precision(self) -> float:
        return self.relevant_links / self.links if self.links else 0.0

    @property
    def recall(self) -> float:
        return self.recall_sum / self.with_relevant if self.with_relevant else 0.0


def shown(queries: Sequence[Query], k: int = K) -> Shown:
    out = Shown()
    for q in queries:
        top = q.ranking[:k]
        hits = sum(1 for uri in top if uri in q.relevant)
        out.articles += 1
        out.links += len(top)
        out.relevant_links += hits
        out.without_link += not top
        if q.relevant:
            out.with_relevant += 1
            out.recall_sum += hits / min(len(q.relevant), k)
            out.without_link_relevant += not top
    return out


def unfloored(params: Params) -> Params:
    """The same ranking without the floor: any text score (the rule of at least
    `min_matched_terms` common terms stays)."""
    return replace(params, min_text_score=0.0)


@dataclass
class FloorEffect:
    """What the floor changes, against the same replay without it."""

    params: Params
    floored: Shown
    free: Shown  # without the floor
    links_cut: int = 0  # links shown without the floor that are not with it
    relevant_cut: int = 0  # ... of them to a same-event article
    replaced: int = 0  # links shown in the place of cut ones (the next above the floor)
    emptied: int = 0  # articles with a link without the floor and none with it
    emptied_relevant: int = 0  # ... of them with an earlier same-event article
    deep_relevant_cut: list[int] = field(default_factory=list)  # ranks, in the whole ranking


def floor_effect(items: Sequence[Item], params: Params = DEFAULT, k: int = K) -> FloorEffect:
    with_floor, without = ranked(items, params), ranked(items, unfloored(params))
    effect = FloorEffect(params, shown(with_floor, k), shown(without, k))
    for q, free in zip(with_floor, without, strict=True):
        kept, before = set(q.ranking[:k]), free.ranking[:k]
        cut = [uri for uri in before if uri not in kept]
        effect.links_cut += len(cut)
        effect.relevant_cut += sum(1 for uri in cut if uri in q.relevant)
        effect.replaced += len(kept - set(before))
        if before and not kept:
            effect.emptied += 1
            effect.emptied_relevant += bool(q.relevant)
        everything = set(q.ranking)
        effect.deep_relevant_cut += [
            rank
            for rank, uri in enumerate(free.ranking, start=1)
            if uri in q.relevant and uri not in everything
        ]
    return effect


FLOORS = (0.0, 0.03, 0.05, 0.06, 0.08, 0.10, 0.15)


def sweep(
    items: Sequence[Item],
    params: Params = DEFAULT,
    floors: Sequence[float] = FLOORS,
    k: int = K,
) -> list[tuple[float, Shown, Quality]]:
    """(floor, top-k links, ranking quality) for each text-score floor, the rest as `params`."""
    out = []
    for floor in floors:
        queries = ranked(items, replace(params, min_text_score=floor))
        out.append((floor, shown(queries, k), ranking_quality(queries)))
    return out


# --- one language per link ----------------------------------------------------------------


@dataclass
class CrossLanguage:
    articles: int = 0
    links: int = 0
    cross: int = 0  # links to a story of another language: must stay 0
    per_language: dict[str | None, Quality] = field(default_factory=dict)


def cross_language(
    items: Sequence[Item],
    params: Params = DEFAULT,
    k: int = K,
    relabel: Sequence[str | None] = ("de-DE", None),
) -> CrossLanguage:
    """The corpus replayed with each story once as it is and once per label in `relabel`
    (the very same text, another uri): the copy is searched right after its original entered
    the index, so the best match it could find is its own twin in another language."""
    index = RelatedIndex(params)
    language_of: dict[str, str | None] = {}
    events: dict[tuple[str | None, int], set[str]] = {}
    judged: dict[str | None, list[tuple[Sequence[str], set[str]]]] = {}
    out = CrossLanguage()
    for item in items:
        copies = [
            replace(
                item.doc,
                uri=f"{item.doc.uri}#{label}",
                slug=f"{item.doc.slug}-{label}",
                language=label,
            )
            for label in relabel
        ]
        for doc in (item.doc, *copies):
            language = language_key(doc.language)
            found = index.search(doc, now=_now(doc), k=k)
            out.articles += 1
            out.links += len(found)
            out.cross += sum(1 for s in found if language_of[s.uri] != language)
            relevant = events.setdefault((language, item.event), set())
            if relevant:
                judged.setdefault(language, []).append(([s.uri for s in found], set(relevant)))
            index.add(doc)
            language_of[doc.uri] = language
            relevant.add(doc.uri)
    out.per_language = {language: quality(r) for language, r in judged.items()}
    return out


# --- scale ---------------------------------------------------------------------------


def synthesize(items: Sequence[Item], count: int, seed: int = 7) -> Iterator[Doc]:
    """`count` articles recombined from the corpus: one headline, paragraphs of three.

    A generator, so a 100k archive is never held as text: only the index is measured.
    """
    rng = random.Random(seed)
    paragraphs = [
        [p for p in it.doc.body.split("\n") if p.strip()] or [it.doc.body] for it in items
    ]
    start = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    for n in range(count):
        picks = rng.sample(range(len(items)), 3)
        body = "\n".join(
            para for i in picks for para in rng.sample(paragraphs[i], min(4, len(paragraphs[i])))
        )
        head = items[picks[0]].doc
        yield Doc(
            uri=f"urn:synthetic:{n}",
            slug=f"synthetic-{n}",
            headline=head.headline,
            subheadline=head.subheadline,
            body=body,
            subjects=head.subjects,
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
    return {
        "size": size,
        "build_s": build_s,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "index_mb": rss_mb() - before,
        "rss_mb": rss_mb(),
    }


# --- output -----------------------------------------------------------------------------


def _row(name: str, q: Quality) -> str:
    return f"  {name:<22} {q.p1:6.3f} {q.p5:6.3f} {q.r_precision:8.3f} {q.map:6.3f}"


def report_quality(path: Path, out: Callable[[str], Any] = print) -> tuple[Quality, Quality]:
    items = load(path)
    ours, base = replay(items)
    out(
        f"Related links, archive mode: {len(items)} articles, {ours.queries} queries "
        "(articles with an earlier same-event article)"
    )
    out(f"  {'method':<22} {'P@1':>6} {'P@5':>6} {'R-prec':>8} {'MAP':>6}")
    out(_row("enrichment (BM25+)", ours))
    out(_row("TF-IDF cosine baseline", base))
    return ours, base


def _shown(name: str, s: Shown) -> str:
    return (
        f"  {name:<18} {s.links:>5} links, precision {s.precision:.3f}, recall "
        f"{s.recall:.3f}; {s.without_link} of {s.articles} articles without a link "
        f"({s.without_link_relevant} of the {s.with_relevant} with an earlier same-event "
        "article)"
    )


def report_floor(
    path: Path,
    params: Params = DEFAULT,
    out: Callable[[str], Any] = print,
    floors: Sequence[float] = FLOORS,
) -> FloorEffect:
    items = load(path)
    effect = floor_effect(items, params)
    out(
        f"Relevance floor in use: text score >= {params.min_text_score:g} and at least "
        f"{params.min_matched_terms} distinctive terms in common; the top {K} links of each of "
        f"the {len(items)} articles (precision: share of the same event; recall: share of "
        f"the same-event stories that fit in {K})"
    )
    out(_shown("with the floor", effect.floored))
    out(_shown("without a floor", effect.free))
    deep = effect.deep_relevant_cut
    out(
        f"  cut by the floor:  {effect.links_cut} links ({effect.relevant_cut} of them to the "
        f"same event, {effect.replaced} others shown in their place); {effect.emptied} "
        "articles left without a link because of it "
        f"({effect.emptied_relevant} with an earlier same-event article); in the whole "
        f"ranking it drops {len(deep)} same-event stories"
        + (f", the best ranked {min(deep)}" if deep else "")
    )
    out(f"  sweep of the text-score floor (at least {params.min_matched_terms} terms in common):")
    out(
        f"  {'floor':>6} {'links':>6} {'precision':>9} {'recall':>7} {'no link':>8} "
        f"{'P@1':>6} {'P@5':>6} {'R-prec':>7} {'MAP':>6}"
    )
    for floor, s, q in sweep(items, params, floors):
        mark = " <- in use" if floor == params.min_text_score else ""
        out(
            f"  {floor:>6.2f} {s.links:>6} {s.precision:>9.3f} {s.recall:>7.3f} "
            f"{s.without_link:>8} {q.p1:>6.3f} {q.p5:>6.3f} {q.r_precision:>7.3f} "
            f"{q.map:>6.3f}{mark}"
        )
    return effect


def report_languages(
    path: Path, params: Params = DEFAULT, out: Callable[[str], Any] = print
) -> CrossLanguage:
    items = load(path)
    check = cross_language(items, params)
    out(
        f"Same language: the corpus as English, relabelled de-DE and unlabelled "
        f"({check.articles} articles, the top {K} links of each): {check.cross} "
        f"cross-language links of {check.links}"
    )
    for language, q in check.per_language.items():
        out(
            f"  {language!s:<6} P@1 {q.p1:.3f}  P@5 {q.p5:.3f}  ({q.queries} queries with an "
            "earlier same-event article of that language)"
        )
    return check


def report_scale(
    path: Path,
    sizes: Sequence[int],
    out: Callable[[str], Any] = print,
    on_size: Callable[[int], Any] = lambda _size: None,
    done: Callable[[int], Any] = lambda _size: None,
) -> None:
    items = load(path)
    out("Cost of one related-links query (k=5), synthetic archives recombined from the corpus")
    out(
        f"  {'archive':>8} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'index MB':>9} {'RSS MB':>7}"
    )
    for size in sizes:
        on_size(size)
        m = measure(items, size)
        done(size)
        out(
            f"  {size:>8,} {m['build_s']:>8.1f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f} "
            f"{m['index_mb']:>9.1f} {m['rss_mb']:>7.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m galley.evaluate ...` is `galley evaluate ...` (see its --help)."""
    from galley.cli import main as galley

    return galley(["evaluate", *(sys.argv[1:] if argv is None else argv)])


def run(
    corpus: Path, *, sizes: Sequence[int] = (1000, 10000, 100000), skip_scale: bool = False
) -> int:
    """Every report on stdout, one after the other; a progress bar on stderr (a terminal)."""
    from galley.cli import progress

    steps = 3 + (0 if skip_scale else len(sizes))
    with progress() as bar:
        task = bar.add_task("quality", total=steps)
        report_quality(corpus)
        print()
        bar.update(task, advance=1, description="relevance floor")
        report_floor(corpus)
        print()
        bar.update(task, advance=1, description="same language")
        report_languages(corpus)
        bar.advance(task)
        if not skip_scale:
            print()
            report_scale(
                corpus,
                sizes,
                on_size=lambda size: bar.update(task, description=f"cost at {size:,}"),
                done=lambda _size: bar.advance(task),
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
