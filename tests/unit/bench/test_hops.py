"""The per-hop arithmetic of the benchmark: entry ids carry Redis's clock in ms."""

from __future__ import annotations

from galley.bench.hops import HOPS, entry_ms, first_seen, hop_table
from shared import names


def test_an_entry_id_gives_the_millisecond_it_was_appended() -> None:
    assert entry_ms("1700000000123-7") == 1700000000123


def test_only_the_first_entry_of_each_offered_uri_counts() -> None:
    entries = [
        ("10-0", {"subject": "a"}),
        ("12-0", {"subject": "b"}),
        ("15-0", {"subject": "a"}),
        ("16-0", {"subject": "stranger"}),
    ]
    assert first_seen(entries, {"a", "b"}) == {"a": 10, "b": 12}


def test_each_hop_is_the_gap_between_the_streams_it_joins() -> None:
    stamps = {
        names.NEWSROOM_SUBMISSIONS: {"a": 100, "b": 200},
        names.ARTICLES_INGESTED: {"a": 104, "b": 210},
        names.ARTICLES_ENRICHED: {"a": 110, "b": 215},
        names.ARTICLES_PUBLISHED: {"a": 113},  # b never published: left out of that hop
    }
    table = hop_table(stamps, {"a", "b"})
    assert [label for label, _src, _dst in HOPS] == list(table)
    assert table["ingest"]["n"] == 2 and table["ingest"]["max"] == 10
    assert table["enrichment"]["p50"] == 5.5
    assert table["publish"] == {"n": 1, "p50": 3, "p95": 3, "p99": 3, "max": 3}
