"""Publishing decisions: version guard, event types, embargo, kill, cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.publish import domain
from services.publish.domain import Cursor, CursorError
from shared import names
from tests.unit.publish.factories import simple_story

NOW = datetime(2025, 2, 4, 10, 0, tzinfo=UTC)


def test_first_visible_version_is_published_with_its_page_url() -> None:
    outcome = domain.receive(None, simple_story(1), NOW)
    assert outcome is not None
    assert outcome.event_type == names.ARTICLE_PUBLISHED
    assert outcome.payload is not None
    assert outcome.payload.url == "/articles/story-number-1"
    assert outcome.payload.published_at == NOW
    assert outcome.state.live == outcome.payload


def test_a_version_not_newer_than_the_stored_one_is_a_no_op() -> None:
    state = domain.receive(None, simple_story(1, version=2), NOW).state  # type: ignore[union-attr]
    assert domain.receive(state, simple_story(1, version=1), NOW) is None
    assert domain.receive(state, simple_story(1, version=2), NOW) is None


def test_a_later_version_is_an_update_that_keeps_the_first_publication_time() -> None:
    state = domain.receive(None, simple_story(1), NOW).state  # type: ignore[union-attr]
    later = NOW + timedelta(hours=1)
    outcome = domain.receive(state, simple_story(1, version=2, headline="New"), later)
    assert outcome is not None and outcome.payload is not None
    assert outcome.event_type == names.ARTICLE_UPDATED
    assert outcome.payload.published_at == NOW
    assert outcome.state.live is not None and outcome.state.live.headline == "New"


def test_a_higher_enrichment_revision_of_the_same_version_is_an_update() -> None:
    state = domain.receive(None, simple_story(1), NOW).state  # type: ignore[union-attr]
    outcome = domain.receive(state, simple_story(1, enrichment_revision=1), NOW)
    assert outcome is not None and outcome.event_type == names.ARTICLE_UPDATED


def test_a_correction_is_emitted_as_corrected() -> None:
    state = domain.receive(None, simple_story(1), NOW).state  # type: ignore[union-attr]
    outcome = domain.receive(
        state, simple_story(1, version=2, lifecycle="corrected", correction="Fixed a name."), NOW)
    assert outcome is not None and outcome.event_type == names.ARTICLE_CORRECTED


def test_killing_a_visible_article_emits_killed_and_hides_it() -> None:
    state = domain.receive(None, simple_story(1), NOW).state  # type: ignore[union-attr]
    outcome = domain.receive(state, simple_story(1, version=2, lifecycle="killed"), NOW)
    assert outcome is not None
    assert outcome.event_type == names.ARTICLE_KILLED
    assert outcome.state.killed and outcome.state.live is None


def test_killing_an_article_that_was_never_visible_is_only_recorded() -> None:
    future = NOW + timedelta(hours=1)
    state = domain.receive(None, simple_story(1, embargoed=future), NOW).state  # type: ignore[union-attr]
    outcome = domain.receive(state, simple_story(1, version=2, lifecycle="killed"), NOW)
    assert outcome is not None
    assert outcome.event_type is None
    assert outcome.state.killed and outcome.state.held is None


def test_an_embargoed_article_is_held_without_an_event_until_its_time() -> None:
    future = NOW + timedelta(minutes=5)
    outcome = domain.receive(None, simple_story(1, embargoed=future), NOW)
    assert outcome is not None
    assert outcome.event_type is None
    assert outcome.state.live is None and outcome.state.due_at == future
    assert domain.release(outcome.state, NOW + timedelta(minutes=4)) is None
    released = domain.release(outcome.state, future)
    assert released is not None and released.event_type == names.ARTICLE_PUBLISHED
    assert released.state.held is None and released.state.live is not None


def test_a_scheduled_update_keeps_the_live_version_until_its_time() -> None:
    state = domain.receive(None, simple_story(1), NOW).state  # type: ignore[union-attr]
    future = NOW + timedelta(minutes=5)
    outcome = domain.receive(state, simple_story(1, version=2, headline="Later",
                                                 publish_at=future), NOW)
    assert outcome is not None and outcome.event_type is None
    assert outcome.state.live is not None and outcome.state.live.headline.startswith("Story")
    released = domain.release(outcome.state, future)
    assert released is not None and released.event_type == names.ARTICLE_UPDATED


def test_a_cursor_survives_a_round_trip_and_garbage_is_refused() -> None:
    cursor = Cursor(domain.sort_key(NOW), "urn:x:1")
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in ("", "!!!", "bm90IGpzb24", "WzEsMl0"):
        with pytest.raises(CursorError):
            Cursor.decode(bad)


def test_sort_keys_order_as_text_like_the_times_they_encode() -> None:
    earlier, later = NOW, NOW + timedelta(microseconds=1)
    assert domain.sort_key(earlier) < domain.sort_key(later)
    assert domain.from_sort_key(domain.sort_key(later)) == later


def test_subject_slugs_are_ascii_lowercase_with_dashes() -> None:
    assert domain.slugify("Kursk Oblast") == "kursk-oblast"
    assert domain.slugify("Prisoners of war") == "prisoners-of-war"
    assert domain.slugify("Česká politika") == "ceska-politika"
