"""The checker sorts every difference between ledger, final state and stream into the
four counts (lost, duplicated, out-of-order, unexpected)."""

from __future__ import annotations

from galley.chaos.checker import Published, check
from galley.chaos.workload import Ledger
from shared import names

URI = "urn:galley:check:1"


def _ev(
    n: int, type_: str, version: int, revision: int = 0, event_id: str = "", uri: str = URI
) -> Published:
    return Published(f"{n}-0", event_id or f"e{n}", type_, uri, version, revision)


def _ledger(**versions: dict[int, str]) -> Ledger:
    ledger = Ledger()
    ledger.articles = {URI: versions.get("v", {1: "published", 2: "updated"})}
    return ledger


def test_a_clean_history_counts_nothing() -> None:
    events = [
        _ev(1, names.ARTICLE_PUBLISHED, 1),
        _ev(2, names.ARTICLE_UPDATED, 1, 1),
        _ev(3, names.ARTICLE_UPDATED, 2),
    ]
    report = check(_ledger(), {URI: (2, False, 2)}, events)
    assert report.ok, report


def test_an_acknowledged_final_version_that_never_went_live_is_lost() -> None:
    events = [_ev(1, names.ARTICLE_PUBLISHED, 1)]
    report = check(_ledger(), {URI: (1, False, 1)}, events)
    assert report.counts == {"lost": 1, "duplicated": 0, "out_of_order": 0, "unexpected": 0}


def test_the_same_event_id_twice_and_the_same_revision_twice_are_duplicates() -> None:
    events = [
        _ev(1, names.ARTICLE_PUBLISHED, 1),
        _ev(2, names.ARTICLE_PUBLISHED, 1, event_id="e1"),
        _ev(3, names.ARTICLE_UPDATED, 2),
    ]
    report = check(_ledger(), {URI: (2, False, 2)}, events)
    assert len(report.duplicated) == 2  # one by event id, one by (uri, version, revision, type)


def test_an_older_version_after_a_newer_one_is_out_of_order() -> None:
    events = [
        _ev(1, names.ARTICLE_PUBLISHED, 2),
        _ev(2, names.ARTICLE_UPDATED, 1, 1),
        _ev(3, names.ARTICLE_UPDATED, 2, 1),
    ]
    report = check(_ledger(), {URI: (2, False, 2)}, events)
    assert report.counts["out_of_order"] == 1


def test_a_version_nobody_acknowledged_is_unexpected() -> None:
    events = [
        _ev(1, names.ARTICLE_PUBLISHED, 1),
        _ev(2, names.ARTICLE_UPDATED, 2),
        _ev(3, names.ARTICLE_UPDATED, 3),
    ]
    report = check(_ledger(), {URI: (2, False, 2)}, events)
    assert report.counts["unexpected"] == 1
    assert report.counts["lost"] == 1  # the last event no longer carries the acked v2


def test_a_kill_is_reflected_when_the_last_event_is_the_kill_or_nothing_was_shown() -> None:
    ledger = _ledger(v={1: "published", 2: "killed"})
    shown = [_ev(1, names.ARTICLE_PUBLISHED, 1), _ev(2, names.ARTICLE_KILLED, 2)]
    assert check(ledger, {URI: (2, True, None)}, shown).ok
    assert check(ledger, {URI: (2, True, None)}, []).ok
    assert check(ledger, {URI: (2, True, None)}, shown[:1]).counts["lost"] == 1
