"""What the pipeline's own work costs per article, with no Redis, SQLite or FastStream.

`python -m galley.bench.budget` runs, in this one process and thread, every step an
article goes through that is pure computation: ingest's validation, sanitizing and
normalizing; the envelope each of the three hops encodes and its consumer decodes and
validates; enrichment's byline cards, related-link search over an archive of
`--archive` stories and the index update; publish's state machine. Each step is timed
per article (the steps of one article run back to back, article after article), and
the report gives the median and the mean per step.

The sum of the means is a LOWER bound on the CPU one article costs the pipeline:
storage, the transport and the frameworks come on top. `cores / sum` is then an upper
bound on the throughput this machine can reach, whatever the transport does (and enrichment,
one process whose search holds its batch's write lock, is bounded by its own share on one
core); with
`--relay` (the naive relay's rate from the same machine) the report sets it against
the throughput targets of the performance issue.

The article page is rendered on request, not in the pipeline; its cost is printed
apart (a reader's first view of each article costs that much once more).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from galley.bench import targets
from galley.bench.corpus import Newsroom
from services.enrichment import domain as enrichment
from services.enrichment.bylines import Directory
from services.enrichment.related import RelatedIndex
from services.ingest import domain as ingest
from services.publish import domain as publish
from services.publish.formats import Site, json_ld
from services.publish.views import make_env
from shared import names
from shared.envelope import Envelope, from_fields, typed
from shared.models import Article, EnrichedArticle, PublishedArticle

STEPS = (
    ("ingest", "parse and validate the ninjs document"),
    ("ingest", "sanitize, normalize, content hash, slug"),
    ("ingest", "article.ingested: encode, decode, validate"),
    ("enrichment", "bylines and related links (search)"),
    ("enrichment", "add the article to the related index"),
    ("enrichment", "article.enriched: encode, decode, validate"),
    ("publish", "state machine, published payload"),
    ("publish", "article.published: encode, decode, validate"),
)
RENDER = ("publish", "render the article page (on request)")


@dataclass
class Timings:
    """Nanoseconds per article for each step, in STEPS order (and the page render)."""

    steps: dict[str, list[int]] = field(default_factory=dict)

    def add(self, step: str, nanos: int) -> None:
        self.steps.setdefault(step, []).append(nanos)

    def mean_us(self, step: str) -> float:
        return statistics.fmean(self.steps[step]) / 1000

    def median_us(self, step: str) -> float:
        return statistics.median(self.steps[step]) / 1000


def hop(event: Envelope[Any], model: type[Any]) -> Envelope[Any]:
    """What one hop does to an event besides moving it: the producer encodes it into
    entry fields, the consumer parses them and validates the payload's model."""
    return typed(from_fields(event.to_fields()), model)


class Budget:
    """The pure steps of the pipeline over one archive, timed per article."""

    def __init__(self, archive: int, seed: int = 7) -> None:
        self.room = Newsroom(seed=seed)
        self.index = RelatedIndex()
        self.directory = Directory()
        for i in range(archive):
            self.index.add(enrichment.doc_of(self.room.article(i, "archive")))
        self.env = make_env()
        self.site = Site(base_url="http://127.0.0.1:8003")
        self.latest: list[PublishedArticle] = []

    def run(self, start: int, count: int, timings: Timings) -> None:
        for i in range(start, start + count):
            self.one(json.dumps(self.room.ninjs(i, "budget")), timings)

    def one(self, submitted: str, timings: Timings) -> None:
        now = datetime.now(UTC)
        clock = time.perf_counter_ns

        def step(label: str, work: Callable[[], Any]) -> Any:
            start = clock()
            out = work()
            timings.add(label, clock() - start)
            return out

        labels = [label for _service, label in STEPS]
        doc = step(labels[0], lambda: ingest.parse_article(json.loads(submitted)))

        def normalize() -> Article:
            draft = ingest.normalize(doc, source="budget")
            ingest.content_hash(doc)
            return draft.model_copy(
                update={"slug": ingest.slugify(draft.headline), "accepted_at": now}
            )

        article = step(labels[1], normalize)
        article = step(
            labels[2],
            lambda: hop(
                Envelope[Article](
                    source=names.source_of(names.INGEST),
                    type=names.ARTICLE_INGESTED,
                    subject=article.uri,
                    data=article,
                ),
                Article,
            ),
        ).data
        enriched = step(
            labels[3],
            lambda: enrichment.enrich(article, directory=self.directory, index=self.index, now=now),
        )
        step(labels[4], lambda: self.index.add(enrichment.doc_of(article)))
        enriched = step(
            labels[5],
            lambda: hop(
                Envelope[EnrichedArticle](
                    source=names.source_of(names.ENRICHMENT),
                    type=names.ARTICLE_ENRICHED,
                    subject=enriched.uri,
                    data=enriched,
                ),
                EnrichedArticle,
            ),
        ).data
        outcome = step(labels[6], lambda: publish.receive(None, enriched, now))
        payload = outcome.payload
        step(
            labels[7],
            lambda: hop(
                Envelope[PublishedArticle](
                    source=names.source_of(names.PUBLISH),
                    type=names.ARTICLE_PUBLISHED,
                    subject=payload.uri,
                    data=payload,
                ),
                PublishedArticle,
            ),
        )
        step(RENDER[1], lambda: self.render(payload))
        self.latest = [payload, *self.latest[:6]]

    def render(self, article: PublishedArticle) -> str:
        return self.env.get_template("article.html").render(
            site=self.site,
            nonce="",
            title=article.headline,
            article=article,
            related=list(article.related),
            latest=self.latest[:6],
            canonical=self.site.url(article.url),
            json_ld=json_ld(article, self.site),
        )


def report(
    timings: Timings,
    *,
    archive: int,
    count: int,
    cores: int,
    relay: float | None,
    ceiling: float | None,
) -> str:
    lines = [
        f"pipeline work per article, no I/O: {count} articles, archive of {archive}"
        f" stories, one thread ({cores} cores on this machine)",
        f"  {'service':<11} {'step':<46} {'median µs':>10} {'mean µs':>9}",
    ]
    total = 0.0
    per_service: dict[str, float] = {}
    for service, label in STEPS:
        mean = timings.mean_us(label)
        total += mean
        per_service[service] = per_service.get(service, 0.0) + mean
        lines.append(f"  {service:<11} {label:<46} {timings.median_us(label):10.0f} {mean:9.0f}")
    lines.append(
        f"  {'':<11} {'sum (a lower bound on the pipeline CPU)':<46} {'':>10} {total:9.0f}"
    )
    service, label = RENDER
    lines.append(
        f"  {service:<11} {label:<46} {timings.median_us(label):10.0f}"
        f" {timings.mean_us(label):9.0f}"
    )
    lines.append("")
    lines.append("per service: " + ", ".join(f"{s} {us:.0f} µs" for s, us in per_service.items()))
    busiest = max(per_service, key=lambda s: per_service[s])
    lines.append(
        f"upper bound from this work alone: {cores * 1e6 / total:.0f}/s on {cores}"
        f" cores; {1e6 / per_service[busiest]:.0f}/s for {busiest} on one core"
    )
    floor = total
    if ceiling:
        transport = cores * 1e6 / ceiling  # the ceiling's three hops, batch 100, no work
        floor = total + transport
        lines.append(
            f"plus the transport at the batched ceiling ({ceiling:.0f}/s, about"
            f" {transport:.0f} µs of CPU per article if it keeps every core busy):"
            f" {floor:.0f} µs, at most {cores * 1e6 / floor:.0f}/s"
        )
    for name, rate in budget_targets(relay, ceiling):
        budget = cores * 1e6 / rate
        lines.append(
            f"target {name} = {rate:.0f}/s: at most {budget:.0f} µs of CPU per"
            f" article on {cores} cores; the work alone is {total / budget:.2f}x"
            f" that budget, with the transport {floor / budget:.2f}x"
        )
    backfill = sum(timings.mean_us(label) for service, label in STEPS[2:])
    count_, seconds = targets.BACKFILL_ARTICLES, targets.BACKFILL_SECONDS
    budget = cores * 1e6 / (count_ / seconds)
    lines.append(
        f"backfill ({count_:,} in {seconds:.0f} s = {count_ / seconds:.0f}/s): at most"
        f" {budget:.0f} µs per article on {cores} cores; enrichment and publish"
        f" work alone at this archive size is {backfill:.0f} µs"
        f" ({backfill / budget:.2f}x), enrichment's share {per_service['enrichment']:.0f}"
        f" µs on one core ({1e6 / per_service['enrichment']:.0f}/s)"
    )
    return "\n".join(lines)


def budget_targets(relay: float | None, ceiling: float | None) -> list[tuple[str, float]]:
    """The throughput targets of the performance issue, in articles/s, for this machine."""
    found = []
    if relay:
        found.append((f"{targets.RELAY_RATIO:g}x the naive relay", targets.RELAY_RATIO * relay))
    if ceiling:
        found.append(
            (f"{targets.CEILING_RATIO:g}x the batched ceiling", targets.CEILING_RATIO * ceiling)
        )
    return found


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m galley.bench.budget",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--archive", type=int, default=10_000, help="stories in the index (10000)")
    p.add_argument("--count", type=int, default=500, help="articles timed (500)")
    p.add_argument("--warmup", type=int, default=50, help="articles run first, untimed (50)")
    p.add_argument("--relay", type=float, help="the naive relay's articles/s on this machine")
    p.add_argument("--ceiling", type=float, help="the batch-100 transport ceiling's articles/s")
    p.add_argument("--seed", type=int, default=7)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    budget = Budget(args.archive, seed=args.seed)
    budget.run(0, args.warmup, Timings())
    timings = Timings()
    budget.run(args.warmup, args.count, timings)
    print(
        report(
            timings,
            archive=args.archive,
            count=args.count,
            cores=os.cpu_count() or 1,
            relay=args.relay,
            ceiling=args.ceiling,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
