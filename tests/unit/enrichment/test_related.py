"""Ranking rules of related links: self, killed, embargoed, pinned, opt-out, determinism."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.enrichment import domain
from services.enrichment.related import DEFAULT, Doc, RelatedIndex
from tests.unit.enrichment.factories import article

NOW = datetime(2025, 2, 4, 12, tzinfo=UTC)
TROOPS = (
    "North Korean troops fought beside Russian forces in Kursk Oblast. Seoul intelligence "
    "says the North Korean soldiers suffered heavy losses near Kursk."
)


def index_of(*articles) -> RelatedIndex:  # type: ignore[no-untyped-def]
    index = RelatedIndex()
    for a in articles:
        index.add(domain.doc_of(a))
    return index


def story(n: int, **kw):  # type: ignore[no-untyped-def]
    return article(f"urn:t:{n}", f"North Korean troops in Kursk, report {n}", TROOPS, **kw)


def uris(links) -> list[str]:  # type: ignore[no-untyped-def]
    return [link.uri for link in links]


def test_an_article_is_never_related_to_itself() -> None:
    a, b = story(1), story(2)
    assert uris(domain.related_links(a, index_of(a, b), now=NOW)) == ["urn:t:2"]


def test_killed_and_withheld_articles_are_never_offered() -> None:
    killed = story(2, lifecycle="killed")
    withheld = story(3, pubstatus="withheld")
    index = index_of(story(4), killed, withheld)
    assert uris(domain.related_links(story(1), index, now=NOW)) == ["urn:t:4"]


def test_killing_an_article_already_in_the_index_removes_it() -> None:
    index = index_of(story(2), story(3))
    index.add(domain.doc_of(story(2, version=2, lifecycle="killed")))
    assert uris(domain.related_links(story(1), index, now=NOW)) == ["urn:t:3"]


def test_embargoed_articles_appear_only_once_visible() -> None:
    embargoed = story(2, embargoed=NOW + timedelta(hours=1))
    scheduled = story(3, publish_at=NOW + timedelta(hours=2))
    index = index_of(embargoed, scheduled)
    assert domain.related_links(story(1), index, now=NOW) == []
    later = domain.related_links(story(1), index, now=NOW + timedelta(hours=3))
    assert sorted(uris(later)) == ["urn:t:2", "urn:t:3"]


def test_pinned_items_come_first_and_are_marked_pinned() -> None:
    unrelated = article("urn:t:9", "Budget deficit widens", "The finance ministry said ...")
    query = story(1, pinned_related=["urn:t:9"])
    links = domain.related_links(query, index_of(story(2), unrelated), now=NOW)
    assert uris(links) == ["urn:t:9", "urn:t:2"]
    assert [link.pinned for link in links] == [True, False]
    assert links[0].url == f"/articles/{unrelated.slug}"


def test_pinned_items_that_are_killed_or_unknown_are_left_out() -> None:
    query = story(1, pinned_related=["urn:t:2", "urn:missing"])
    links = domain.related_links(query, index_of(story(2, lifecycle="killed")), now=NOW)
    assert links == []


def test_an_opted_out_article_gets_no_computed_links_but_keeps_pinned_ones() -> None:
    index = index_of(story(2), story(3))
    assert domain.related_links(story(1, related_opt_out=True), index, now=NOW) == []
    pinned = story(1, related_opt_out=True, pinned_related=["urn:t:3"])
    assert uris(domain.related_links(pinned, index, now=NOW)) == ["urn:t:3"]


def test_ties_are_broken_by_uri_so_the_ranking_is_deterministic() -> None:
    twins = [article(f"urn:t:{n}", "North Korean troops in Kursk", TROOPS) for n in (5, 3, 4)]
    links = domain.related_links(story(1), index_of(*twins), now=NOW)
    assert uris(links) == ["urn:t:3", "urn:t:4", "urn:t:5"]
    assert len({link.score for link in links}) == 1


def test_k_limits_the_number_of_links() -> None:
    index = index_of(*(story(n) for n in range(2, 10)))
    assert len(domain.related_links(story(1), index, now=NOW, k=3)) == 3


def test_a_story_sharing_no_distinctive_terms_is_not_related() -> None:
    budget = article(
        "urn:t:2",
        "Draft budget foresees a deficit of 18.5% of GDP",
        "The budget foresees expenditures and revenues, the think tank said.",
    )
    assert domain.related_links(story(1), index_of(budget), now=NOW) == []


def test_links_explain_themselves_with_the_terms_that_matched() -> None:
    link = domain.related_links(story(1), index_of(story(2)), now=NOW)[0]
    assert {"korean", "kursk", "troop"} <= set(link.matched_terms)
    assert link.score > 0


def test_more_recent_stories_rank_above_equally_similar_older_ones() -> None:
    old = Doc(
        uri="urn:old",
        slug="old",
        headline="Kursk troops",
        body=TROOPS,
        published=NOW - timedelta(days=60),
    )
    new = Doc(
        uri="urn:new",
        slug="new",
        headline="Kursk troops",
        body=TROOPS,
        published=NOW - timedelta(days=1),
    )
    index = RelatedIndex()
    index.add(old)
    index.add(new)
    query = Doc(uri="urn:q", slug="q", headline="Kursk troops", body=TROOPS, published=NOW)
    assert [s.uri for s in index.search(query, now=NOW)] == ["urn:new", "urn:old"]


def test_a_weakly_related_story_is_not_linked() -> None:
    same = article(
        "urn:t:2",
        "North Korean soldiers killed in Kursk",
        "Seoul says North Korean troops lost hundreds of soldiers fighting Ukrainian "
        "forces in the Kursk region.",
    )
    weak = article(
        "urn:t:3",
        "Parliament debates the pension reform",
        "Lawmakers argued about the pension reform for hours. The finance minister "
        "defended the plan, the opposition called it unfair to young workers. "
        "Pensions will rise with inflation. The vote is expected next month after a "
        "committee hearing. Unions plan protests in the capital. A delegation from "
        "Seoul watched; a Russian journalist asked a question.",
    )
    budget = article(
        "urn:t:4",
        "Budget deficit widens",
        "The finance ministry said the deficit widened as spending rose.",
    )
    assert uris(domain.related_links(story(1), index_of(same, weak, budget), now=NOW)) == [
        "urn:t:2"
    ]
    # Without the floor it would be linked: it shares two distinctive terms, weakly.
    loose = RelatedIndex(replace(DEFAULT, min_text_score=0.0))
    for a in (same, weak, budget):
        loose.add(domain.doc_of(a))
    found = {s.uri: s for s in loose.search(domain.doc_of(story(1)), now=NOW)}
    assert set(found["urn:t:3"].matched_terms) == {"russian", "seoul"}
    assert 0 < found["urn:t:3"].text_score < DEFAULT.min_text_score
