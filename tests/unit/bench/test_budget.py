import re

import pytest

from galley.bench.budget import RENDER, STEPS, Budget, Timings, budget_targets, hop, report
from galley.bench.corpus import Newsroom
from shared import names
from shared.envelope import Envelope
from shared.models import Article


def test_a_hop_gives_the_consumer_the_same_article_the_producer_sent() -> None:
    article = Newsroom(seed=3).article(1)
    event = Envelope[Article](
        source="/galley/ingest", type=names.ARTICLE_INGESTED, subject=article.uri, data=article
    )
    received = hop(event, Article)
    assert received.data == article
    assert (received.id, received.type, received.subject) == (event.id, event.type, article.uri)


def test_a_small_run_times_every_step_of_every_article_and_publishes_related_links() -> None:
    budget = Budget(archive=200, seed=3)
    timings = Timings()
    budget.run(0, 4, timings)
    labels = [label for _service, label in (*STEPS, RENDER)]
    assert sorted(timings.steps) == sorted(labels)
    assert all(len(timings.steps[label]) == 4 for label in labels)
    assert all(n > 0 for label in labels for n in timings.steps[label])
    # the run is the real work: the last article went through search and into the index
    assert len(budget.index) == 200 + 4
    assert budget.latest[0].uri == "urn:galley:budget:3"
    assert all(article.related for article in budget.latest)  # found neighbours (seeded)


def _flat(micros: float) -> Timings:
    timings = Timings()
    for _service, label in (*STEPS, RENDER):
        timings.add(label, int(micros * 1000))
    return timings


def test_the_report_sums_the_steps_and_sets_the_floor_against_each_target() -> None:
    # eight steps of 250 µs: 2,000 µs of work per article
    text = report(_flat(250), archive=10_000, count=1, cores=2, relay=500.0, ceiling=4000.0)
    assert re.search(r"sum \(a lower bound on the pipeline CPU\)\s+2000", text)
    assert "upper bound from this work alone: 1000/s on 2 cores" in text
    # the ceiling's transport: 2 cores / 4,000 per s = 500 µs; floor 2,500 µs -> 800/s
    assert (
        "(4000/s, about 500 µs of CPU per article if it keeps every core busy): 2500 µs,"
        " at most 800/s" in text
    )
    # 2x relay = 1,000/s -> 2,000 µs budget; 0.25x ceiling = 1,000/s as well
    assert (
        text.count(
            "at most 2000 µs of CPU per article on 2 cores; the work alone is"
            " 1.00x that budget, with the transport 1.25x"
        )
        == 2
    )
    # backfill: 833/s on 2 cores -> 2,400 µs; the six steps after ingest's own: 1,500 µs
    assert "at most 2400 µs per article on 2 cores" in text
    assert "alone at this archive size is 1500 µs (0.62x)" in text


def test_without_transport_figures_the_report_states_the_work_alone() -> None:
    text = report(_flat(100), archive=10, count=1, cores=1, relay=None, ceiling=None)
    assert "upper bound from this work alone: 1250/s on 1 cores" in text
    assert "target" not in text


@pytest.mark.parametrize(
    ("relay", "ceiling", "expected"),
    [
        (600.0, None, [("2x the naive relay", 1200.0)]),
        (None, 4000.0, [("0.25x the batched ceiling", 1000.0)]),
        (None, None, []),
    ],
)
def test_the_targets_follow_the_issue(
    relay: float | None, ceiling: float | None, expected: list[tuple[str, float]]
) -> None:
    assert budget_targets(relay, ceiling) == expected
