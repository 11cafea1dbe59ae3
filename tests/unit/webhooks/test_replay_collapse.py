"""Collapsing the history of articles.published to the current version of each article."""

from __future__ import annotations

from typing import Any

from galley.replay import Entry, current_versions
from shared import names
from shared.envelope import from_fields
from tests.unit.webhooks.factories import event


def entry(n: int, event_type: str, slug: str, version: int, **extra: Any) -> Entry:
    return Entry(f"{n}-0", from_fields(event(event_type, slug, version, **extra).to_fields()))


def test_history_keeps_the_latest_version_of_each_article_in_first_publication_order() -> None:
    history = [
        entry(1, names.ARTICLE_PUBLISHED, "a", 1),
        entry(2, names.ARTICLE_PUBLISHED, "b", 1),
        entry(3, names.ARTICLE_UPDATED, "a", 2),
        entry(4, names.ARTICLE_CORRECTED, "b", 2),
    ]
    current = current_versions(history)
    assert [(e.event.subject, e.version[0]) for e in current] == [
        ("urn:newsroom:a", 2),
        ("urn:newsroom:b", 2),
    ]


def test_a_killed_article_is_left_out_of_the_history() -> None:
    history = [
        entry(1, names.ARTICLE_PUBLISHED, "a", 1),
        entry(2, names.ARTICLE_KILLED, "a", 2),
        entry(3, names.ARTICLE_PUBLISHED, "b", 1),
    ]
    assert [e.event.subject for e in current_versions(history)] == ["urn:newsroom:b"]


def test_a_re_enrichment_of_the_same_version_replaces_it() -> None:
    history = [
        entry(1, names.ARTICLE_PUBLISHED, "a", 1),
        entry(2, names.ARTICLE_UPDATED, "a", 1, enrichment_revision=1),
    ]
    [current] = current_versions(history)
    assert current.entry_id == "2-0"


def test_an_older_version_appearing_late_does_not_win() -> None:
    history = [entry(1, names.ARTICLE_UPDATED, "a", 3), entry(2, names.ARTICLE_PUBLISHED, "a", 1)]
    [current] = current_versions(history)
    assert current.version == (3, 0)
