"""Author cards and credit of an enriched article: structured authors, the document's own
descriptions of them, the directory, and the agency its byline credits."""

from __future__ import annotations

from datetime import UTC, datetime

from services.enrichment import domain
from services.enrichment.bylines import Directory
from services.enrichment.related import RelatedIndex
from shared.models import AuthorProfile, Contributor
from tests.unit.enrichment.factories import article

NOW = datetime(2025, 3, 1, tzinfo=UTC)
HOLLMANN = Contributor(
    name="Christian Hollmann",
    role="Korrespondent",
    bio="Berichtet aus Washington.",
    avatar_url="https://img.example.org/hollmann.jpg",
)
MEIER = AuthorProfile(
    name="Anna Meier", slug="anna-meier", role="Redakteurin", bio="Schreibt über Politik."
)


def enriched(**fields):  # type: ignore[no-untyped-def]
    story = article("urn:t:1", "Wahl in den USA", "Die Wahl ...", language="de", **fields)
    return domain.enrich(story, directory=Directory([MEIER]), index=RelatedIndex(), now=NOW)


def test_the_byline_credit_is_set_apart_from_the_authors() -> None:
    e = enriched(byline="Von Christian Hollmann, dpa")
    assert [c.name for c in e.authors] == ["Christian Hollmann"]
    assert e.credit == "dpa"


def test_an_agency_only_byline_has_a_credit_and_no_author() -> None:
    e = enriched(byline="dpa/AFP")
    assert (e.authors, e.credit) == ([], "dpa/AFP")


def test_contributors_come_before_the_byline_and_bring_their_own_card() -> None:
    e = enriched(
        byline="Von Somebody Else, dpa",
        contributors=[HOLLMANN],
        author_names=["Christian Hollmann"],
    )
    [card] = e.authors
    assert card.model_dump() == {
        "name": "Christian Hollmann",
        "slug": None,
        "role": "Korrespondent",
        "bio": "Berichtet aus Washington.",
        "avatar_url": "https://img.example.org/hollmann.jpg",
        "url": None,
    }
    assert e.credit == "dpa"


def test_a_contributor_with_a_directory_profile_gets_the_profile() -> None:
    own = Contributor(name="Anna Meier", bio="Bio sent with the story.")
    e = enriched(contributors=[own, HOLLMANN], author_names=["Anna Meier", "Christian Hollmann"])
    assert [(c.name, c.slug, c.bio) for c in e.authors] == [
        ("Anna Meier", "anna-meier", "Schreibt über Politik."),
        ("Christian Hollmann", None, "Berichtet aus Washington."),
    ]


def test_fresh_author_cards_keep_the_credit_and_the_documents_descriptions() -> None:
    e = enriched(byline="Von Christian Hollmann, dpa", contributors=[HOLLMANN])
    profile = AuthorProfile(
        name="Christian Hollmann", slug="christian-hollmann", bio="Aus dem Verzeichnis."
    )
    fresh = domain.with_fresh_authors(e, Directory([MEIER, profile]), NOW)
    assert fresh is not None
    assert (fresh.authors[0].slug, fresh.authors[0].bio) == (
        "christian-hollmann",
        "Aus dem Verzeichnis.",
    )
    assert fresh.credit == "dpa" and fresh.enrichment_revision == 1
    assert domain.with_fresh_authors(e, Directory([MEIER]), NOW) is None  # nothing changed


def test_a_killed_article_has_neither_authors_nor_credit() -> None:
    e = enriched(byline="Von Christian Hollmann, dpa", lifecycle="killed")
    assert (e.authors, e.credit) == ([], None)


def test_contributors_without_a_profile_are_listed_as_unknown_authors() -> None:
    e = enriched(contributors=[HOLLMANN])
    assert domain.unknown_authors(e.authors) == ["Christian Hollmann"]
    assert domain.name_rows(e) == [("christian hollmann", "Christian Hollmann", None)]
