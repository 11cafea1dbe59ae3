"""Publishing decisions: version guard, event types, embargo, kill, dates, packages, cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.publish import domain
from services.publish.domain import Cursor, CursorError
from shared import names
from shared.models import Member
from tests.unit.publish.factories import member, package_item, simple_story

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
        state, simple_story(1, version=2, lifecycle="corrected", correction="Fixed a name."), NOW
    )
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
    outcome = domain.receive(
        state, simple_story(1, version=2, headline="Later", publish_at=future), NOW
    )
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


# --- the story's own dates ----------------------------------------------------------------

BACKFILL_CREATED = datetime(2019, 3, 1, 8, 30, tzinfo=UTC)
BACKFILL_MODIFIED = datetime(2019, 3, 2, 17, 5, tzinfo=UTC)


def published(article: Any, now: datetime = NOW, state: domain.State | None = None) -> Any:
    outcome = domain.receive(state, article, now)
    assert outcome is not None and outcome.payload is not None
    return outcome


def test_a_backfilled_2019_story_keeps_its_2019_dates() -> None:
    story = simple_story(1, firstcreated=BACKFILL_CREATED, versioncreated=BACKFILL_MODIFIED)
    outcome = published(story)
    assert outcome.payload.published_at == BACKFILL_CREATED
    assert outcome.payload.modified_at == BACKFILL_MODIFIED
    assert outcome.state.published_at == BACKFILL_CREATED  # the feed order


def test_superdesks_firstpublished_wins_over_firstcreated() -> None:
    story = simple_story(
        1,
        firstcreated=BACKFILL_CREATED,
        firstpublished=BACKFILL_CREATED + timedelta(hours=2),
        versioncreated=BACKFILL_MODIFIED,
    )
    assert published(story).payload.published_at == BACKFILL_CREATED + timedelta(hours=2)


def test_a_story_dated_only_by_its_version_is_published_at_that_date_not_today() -> None:
    story = simple_story(1, versioncreated=BACKFILL_MODIFIED)
    payload = published(story).payload
    assert (payload.published_at, payload.modified_at) == (BACKFILL_MODIFIED, BACKFILL_MODIFIED)


def test_a_story_with_no_date_at_all_is_published_when_publish_first_shows_it() -> None:
    assert published(simple_story(1)).payload.published_at == NOW


def test_a_story_is_never_published_after_it_was_modified() -> None:
    story = simple_story(1, firstcreated=BACKFILL_MODIFIED, versioncreated=BACKFILL_CREATED)
    payload = published(story).payload
    assert payload.published_at == BACKFILL_MODIFIED
    assert payload.modified_at == BACKFILL_MODIFIED


def test_an_embargo_lifting_after_firstcreated_makes_the_embargo_the_publication() -> None:
    embargo = NOW + timedelta(hours=2)
    story = simple_story(
        1,
        firstcreated=NOW - timedelta(hours=1),
        embargoed=embargo,
        versioncreated=NOW - timedelta(hours=1),
    )
    held = domain.receive(None, story, NOW)
    assert held is not None and held.payload is None
    released = domain.release(held.state, embargo + timedelta(seconds=30))
    assert released is not None and released.payload is not None
    assert released.payload.published_at == embargo
    assert released.payload.modified_at == embargo  # never before the publication
    assert released.state.published_at == embargo


def test_a_scheduled_story_is_published_at_its_schedule_not_at_its_creation() -> None:
    schedule = NOW + timedelta(minutes=30)
    story = simple_story(1, firstcreated=NOW - timedelta(days=1), publish_at=schedule)
    held = domain.receive(None, story, NOW)
    assert held is not None
    released = domain.release(held.state, schedule)
    assert released is not None and released.payload is not None
    assert released.payload.published_at == schedule


def test_a_firstcreated_in_the_future_is_published_now() -> None:
    story = simple_story(
        1, firstcreated=NOW + timedelta(days=3), versioncreated=NOW + timedelta(days=3)
    )
    payload = published(story).payload
    assert payload.published_at == NOW
    assert payload.modified_at == NOW


def test_a_story_without_dates_is_published_and_modified_when_it_goes_live() -> None:
    payload = published(simple_story(1)).payload
    assert payload.published_at == NOW and payload.modified_at == NOW


def test_an_update_keeps_the_first_publication_date_and_moves_the_modification() -> None:
    first = published(
        simple_story(1, firstcreated=BACKFILL_CREATED, versioncreated=BACKFILL_CREATED)
    )
    update = simple_story(
        1,
        version=2,
        firstcreated=BACKFILL_CREATED + timedelta(days=30),
        versioncreated=BACKFILL_MODIFIED,
    )
    outcome = published(update, NOW + timedelta(hours=1), first.state)
    assert outcome.payload.published_at == BACKFILL_CREATED
    assert outcome.payload.modified_at == BACKFILL_MODIFIED
    assert outcome.state.published_at == BACKFILL_CREATED


def test_an_update_without_versioncreated_is_modified_when_publish_takes_it() -> None:
    first = published(simple_story(1))
    later = NOW + timedelta(hours=3)
    outcome = published(simple_story(1, version=2, headline="New"), later, first.state)
    assert outcome.payload.published_at == NOW
    assert outcome.payload.modified_at == later


def test_re_enriching_the_same_version_does_not_move_its_modification() -> None:
    first = published(simple_story(1))
    outcome = published(
        simple_story(1, enrichment_revision=1), NOW + timedelta(hours=2), first.state
    )
    assert outcome.payload.modified_at == NOW


def test_a_kill_carries_the_first_publication_date() -> None:
    first = published(simple_story(1, firstcreated=BACKFILL_CREATED))
    outcome = published(simple_story(1, version=2, lifecycle="killed"), NOW, first.state)
    assert outcome.payload.published_at == BACKFILL_CREATED
    assert outcome.payload.modified_at == NOW


def test_only_a_modification_over_a_minute_after_publication_counts_as_an_update() -> None:
    assert not domain.is_updated(NOW, NOW + timedelta(seconds=59))
    assert not domain.is_updated(NOW, None)
    assert domain.is_updated(NOW, NOW + timedelta(minutes=2))


# --- packages -------------------------------------------------------------------------------


def live_articles(*articles: Any) -> dict[str, Any]:
    return {a.uri: domain.to_published(a, NOW) for a in articles}


def test_a_package_resolves_its_main_member_and_lists_the_other_live_ones_in_order() -> None:
    lead, side, gone = simple_story(1), simple_story(2), simple_story(3)
    package = package_item(
        1, [member(side, "sidebars"), member(gone, "sidebars"), member(lead, "main")]
    )
    resolved = domain.resolve_package(package, live_articles(lead, side))
    assert resolved.main is not None and resolved.main.uri == lead.uri
    assert [link.url for link in resolved.links] == ["/articles/story-number-2"]


def test_a_group_starting_with_main_is_the_main_item_else_the_first_live_member() -> None:
    one, two = simple_story(1), simple_story(2)
    named = package_item(1, [member(one, "sidebars"), member(two, "main-1")])
    assert domain.resolve_package(named, live_articles(one, two)).main.uri == two.uri  # type: ignore[union-attr]
    unnamed = package_item(2, [member(one, "sidebars"), member(two, "story")])
    assert domain.resolve_package(unnamed, live_articles(one, two)).main.uri == one.uri  # type: ignore[union-attr]
    main_not_live = package_item(3, [member(one, "main"), member(two, "sidebars")])
    assert domain.resolve_package(main_not_live, live_articles(two)).main.uri == two.uri  # type: ignore[union-attr]


def test_a_package_with_nothing_live_lists_the_headlines_it_carries() -> None:
    one, two = simple_story(1), simple_story(2)
    package = package_item(1, [member(one, "main"), member(two, "sidebars", headline=False)])
    resolved = domain.resolve_package(package, {})
    assert resolved.main is None
    assert [(link.headline, link.url) for link in resolved.links] == [(one.headline, None)]
    with_body = package.model_copy(update={"body_html": "<p>Its own words.</p>"})
    assert domain.resolve_package(with_body, {}).links == []


def test_a_package_with_its_own_body_links_its_main_text_story_too() -> None:
    lead = simple_story(1)
    package = package_item(1, [member(lead, "main")], body_html="<p>Intro.</p>")
    resolved = domain.resolve_package(package, live_articles(lead))
    assert resolved.main is not None
    assert [link.url for link in resolved.links] == ["/articles/story-number-1"]


def test_a_package_never_lists_itself_or_a_member_twice() -> None:
    one = simple_story(1)
    package = package_item(1, [member(one, "main"), member(one, "sidebars")])
    package = package.model_copy(
        update={"members": [*package.members, Member(uri=package.uri, group="sidebars")]}
    )
    resolved = domain.resolve_package(
        package, live_articles(one) | {package.uri: domain.to_published(package, NOW)}
    )
    assert resolved.main is not None and resolved.main.uri == one.uri
    assert resolved.links == []
