"""Related links stay within the story's language, and match on its content words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.enrichment import domain
from services.enrichment.related import RelatedIndex, language_key, tokenize
from tests.unit.enrichment.factories import article

NOW = datetime(2025, 2, 4, 12, tzinfo=UTC)
TROOPS = (
    "North Korean troops fought beside Russian forces in Kursk Oblast. Seoul intelligence "
    "says the North Korean soldiers suffered heavy losses near Kursk."
)
TRUPPEN = (
    "Nordkoreanische Truppen kämpfen an der Seite der russischen Armee in der Region "
    "Kursk. Der südkoreanische Geheimdienst berichtet, die nordkoreanischen Soldaten "
    "hätten bei Kursk schwere Verluste erlitten."
)
TROPPER = (
    "Nordkoreanske tropper kjemper sammen med russiske styrker i Kursk. Sørkoreansk "
    "etterretning sier at de nordkoreanske soldatene har lidd store tap ved Kursk."
)


def index_of(*articles) -> RelatedIndex:  # type: ignore[no-untyped-def]
    index = RelatedIndex()
    for a in articles:
        index.add(domain.doc_of(a))
    return index


def links(query, *archive) -> list[str]:  # type: ignore[no-untyped-def]
    return [link.uri for link in domain.related_links(query, index_of(*archive), now=NOW)]


@pytest.mark.parametrize(
    ("tag", "key"),
    [
        ("de-DE", "de"),
        ("DE", "de"),
        ("nb-NO", "nb"),
        ("no", "nb"),
        ("NO-no", "nb"),
        ("nn", "nb"),  # Nynorsk is matched with Bokmål, as on the page
        ("zh-Hans", "zh"),
        ("en_GB", "en"),
        ("pt-BR", "pt"),
        ("ger", "de"),
        ("", None),
        (None, None),
    ],
)
def test_languages_are_compared_by_their_primary_subtag(tag: str | None, key: str | None) -> None:
    assert language_key(tag) == key


def test_a_story_is_never_linked_to_a_story_in_another_language() -> None:
    english = article("urn:en:2", "North Korean troops in Kursk", TROOPS, language="en")
    twin = article("urn:de:2", "North Korean troops in Kursk", TROOPS, language="de")
    query = article("urn:en:1", "North Korean troops in Kursk, report", TROOPS, language="en-GB")
    assert links(query, english, twin) == ["urn:en:2"]
    german = query.model_copy(update={"uri": "urn:de:1", "language": "de-DE"})
    assert links(german, english, twin) == ["urn:de:2"]


def test_unlabelled_stories_match_unlabelled_stories_only() -> None:
    labelled = article("urn:en:2", "North Korean troops in Kursk", TROOPS, language="en")
    unlabelled = article("urn:x:2", "North Korean troops in Kursk", TROOPS)
    query = article("urn:x:1", "North Korean troops in Kursk, report", TROOPS)
    assert links(query, labelled, unlabelled) == ["urn:x:2"]


def test_norwegian_language_tags_of_either_spelling_match_each_other() -> None:
    nb = article("urn:nb:2", "Nordkoreanske tropper i Kursk", TROPPER, language="nb-NO")
    query = article("urn:nb:1", "Nordkoreanske tropper kjemper i Kursk", TROPPER, language="no")
    assert links(query, nb) == ["urn:nb:2"]


def test_german_stories_match_on_content_words_not_function_words() -> None:
    related = article("urn:de:2", "Nordkoreanische Truppen bei Kursk", TRUPPEN, language="de")
    unrelated = article(
        "urn:de:3",
        "Die Bahn erhöht die Preise",
        "Die Deutsche Bahn erhöht zum Fahrplanwechsel die Preise. Der Konzern "
        "sagt, die Kosten für Energie und Personal seien gestiegen, und die "
        "Fahrgäste müssten sich darauf einstellen.",
        language="de",
    )
    query = article(
        "urn:de:1", "Schwere Verluste der nordkoreanischen Truppen in Kursk", TRUPPEN, language="de"
    )
    found = domain.related_links(query, index_of(related, unrelated), now=NOW)
    assert [link.uri for link in found] == ["urn:de:2"]
    assert {"kursk", "truppen", "nordkoreanischen"} <= set(found[0].matched_terms)
    assert not {"die", "der", "und", "in", "bei"} & set(found[0].matched_terms)


@pytest.mark.parametrize(
    ("text", "language", "dropped"),
    [
        (
            "Die Regierung und der Kanzler haben sich nicht geeinigt",
            "de",
            {"die", "und", "der", "haben", "sich", "nicht"},
        ),
        (
            "Le gouvernement et les syndicats ne sont pas d'accord",
            "fr",
            {"le", "et", "les", "ne", "sont", "pas", "d"},
        ),
        (
            "Regjeringen og fagforeningene er ikke enige om det",
            "nb",
            {"og", "er", "ikke", "om", "det"},
        ),
        ("Regeringen och facken är inte överens om det", "sv", {"och", "ar", "inte", "om", "det"}),
        (
            "El gobierno y los sindicatos no están de acuerdo",
            "es",
            {"el", "y", "los", "no", "estan", "de"},
        ),
    ],
)
def test_each_language_drops_its_own_function_words(
    text: str, language: str, dropped: set[str]
) -> None:
    terms = set(tokenize(text, language))
    assert terms and not terms & dropped


def test_english_words_that_are_german_function_words_still_count_in_english() -> None:
    assert {"war", "die"} <= set(tokenize("Soldiers die in the war", "en"))
    assert not {"war", "die"} & set(tokenize("Die Lage war ernst", "de"))


def test_letters_outside_the_ascii_range_are_folded_not_split() -> None:
    assert tokenize("Søndag på Færøyane: Straße", "nb") == ["sondag", "faeroyane", "strasse"]
    assert tokenize("L'armée française", "fr") == ["armee", "francaise"]
