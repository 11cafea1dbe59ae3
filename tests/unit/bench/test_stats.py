import math

import pytest

from galley.bench.stats import Ledger, median, percentile, ratio, summarize


def test_the_median_of_an_odd_count_is_the_middle_value() -> None:
    assert median([5.0, 1.0, 3.0]) == 3.0


def test_a_percentile_between_ranks_is_interpolated_linearly() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == 25.0
    assert percentile([0.0, 100.0], 99) == pytest.approx(99.0)


def test_the_extreme_percentiles_are_the_minimum_and_the_maximum() -> None:
    values = [3.0, 9.0, 1.0, 7.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 9.0


def test_p99_of_a_hundred_values_lies_between_the_two_largest() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)


def test_a_percentile_that_reaches_unpublished_articles_is_infinite() -> None:
    values = [1.0] * 98 + [math.inf, math.inf]
    assert percentile(values, 50) == 1.0
    assert math.isinf(percentile(values, 99))


def test_a_percentile_of_nothing_or_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_the_ledger_matches_each_publication_to_its_offer_by_uri() -> None:
    ledger = Ledger()
    ledger.offer("a", 10.0)
    ledger.offer("b", 11.0)
    ledger.publish("b", 11.5)
    ledger.publish("a", 10.25)
    assert sorted(ledger.latencies()) == [0.25, 0.5]
    assert ledger.done and ledger.missing == 0


def test_the_ledger_counts_a_second_publication_as_a_duplicate_not_a_new_latency() -> None:
    ledger = Ledger()
    ledger.offer("a", 1.0)
    ledger.publish("a", 2.0)
    ledger.publish("a", 3.0)
    assert ledger.latencies() == [1.0]
    assert ledger.duplicates == 1


def test_the_ledger_ignores_publications_it_never_offered() -> None:
    ledger = Ledger()
    ledger.offer("a", 1.0)
    ledger.publish("archive-article", 1.5)
    assert ledger.strangers == 1
    assert not ledger.done and ledger.missing == 1


def test_an_article_never_published_has_an_infinite_latency() -> None:
    ledger = Ledger()
    ledger.offer("a", 1.0)
    ledger.offer("b", 1.0)
    ledger.publish("a", 1.1)
    latencies = ledger.latencies()
    assert math.isinf(max(latencies))
    assert summarize(latencies).published == 1


def test_throughput_is_publications_over_first_offer_to_last_publication() -> None:
    ledger = Ledger()
    for i in range(10):
        ledger.offer(f"u{i}", 0.0)
        ledger.publish(f"u{i}", 0.5 * (i + 1))
    assert ledger.throughput() == pytest.approx(10 / 5.0)
    assert ledger.steady_throughput(skip=0.1) == pytest.approx((8 - 1) / (4.5 - 1.0))


def test_the_summary_reports_percentiles_in_milliseconds() -> None:
    summary = summarize([0.010, 0.020, 0.030])
    assert summary.p50_ms == pytest.approx(20.0)
    assert summary.max_ms == pytest.approx(30.0)
    assert summary.offered == summary.published == 3


def test_a_ratio_to_a_missing_figure_is_not_a_number() -> None:
    assert math.isnan(ratio(5.0, 0.0))
    assert ratio(5.0, 2.0) == 2.5


def test_the_cost_table_of_galley_evaluate_is_read_row_by_row() -> None:
    from galley.bench.plots import parse_scale

    text = """Cost of one related-links query (k=5), synthetic archives recombined from the corpus
   archive  build s   p50 ms   p99 ms  index MB  RSS MB
     1,000      0.4     0.61     0.86       0.1    57.3
   100,000     49.9     2.24     2.93     114.9   179.0
"""
    assert parse_scale(text) == [(1000, 0.61, 0.86), (100000, 2.24, 2.93)]
