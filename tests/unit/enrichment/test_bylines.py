"""Bylines as newsrooms write them, and matching them to the directory."""

from __future__ import annotations

import string
import time
from collections.abc import Callable

import pytest

from services.enrichment import domain
from services.enrichment.bylines import (
    AGENCIES,
    Byline,
    Directory,
    author_cards,
    authors_of,
    byline_names,
    parse_byline,
    read_byline,
)
from shared.models import AuthorProfile, Contributor
from tests.unit.enrichment.factories import article


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("By Martin Fornusek and Kate Tsurkan", ["Martin Fornusek", "Kate Tsurkan"]),
        (
            "Anna Myroniuk, Alex Khrebet and Oleg Sukhov",
            ["Anna Myroniuk", "Alex Khrebet", "Oleg Sukhov"],
        ),
        ("Martin Fornusek | Reuters", ["Martin Fornusek"]),
        ("Olena Goncharova in Kyiv", ["Olena Goncharova"]),
        ("Kateryna Hodunova, Staff Reporter", ["Kateryna Hodunova"]),
        ("BY JANE DOE", ["JANE DOE"]),
        ("By Zoë Dupré in Paris and Jan Novák in Prague", ["Zoë Dupré", "Jan Novák"]),
        ("Reporting by Ann Lee; Editing by Bo Chan", ["Ann Lee"]),
        ("Kyiv Independent news desk", []),
        ("", []),
    ],
)
def test_newsroom_bylines_are_parsed_into_person_names(byline: str, names: list[str]) -> None:
    assert parse_byline(byline) == names


@pytest.mark.parametrize(
    ("scraped", "names"),
    [
        (["Deutsche Welle", "Www.Example.Com", "Author", "Karl Grün"], ["Karl Grün"]),
        (["Jane Roe For Dailymail.Com"], ["Jane Roe"]),
        (["Dailymail.Com Reporter"], []),
        (["Reuters Editorial", "Min Read"], []),
        (["Pat Kim", "Press Association Sport Correspondent"], ["Pat Kim"]),
        (["Sam Hale", "Florida Today", "Published A.M. Et Dec."], ["Sam Hale"]),
        (["Ada Byron", "Alan Kay", "Opinion"], ["Ada Byron", "Alan Kay"]),
        (["The Associated Press"], []),
        (["Jose A. Delreal", "Jose A. Delreal"], ["Jose A. Delreal"]),
    ],
)
def test_noisy_scraped_bylines_keep_only_the_people(scraped: list[str], names: list[str]) -> None:
    assert byline_names(scraped, None) == names


def test_structured_author_names_win_over_the_byline_text() -> None:
    assert byline_names(["Martin Fornusek"], "By Somebody Else") == ["Martin Fornusek"]
    assert byline_names([], "By Somebody Else") == ["Somebody Else"]


FORNUSEK = AuthorProfile(
    name="Martin Fornusek",
    slug="martin-fornusek",
    role="Reporter",
    bio="Reports on politics.",
    avatar_url="https://img.example.org/m.jpg",
    aliases=["M. Fornusek"],
)
DUPRE = AuthorProfile(name="Zoë Dupré", slug="zoe-dupre")


@pytest.mark.parametrize(
    "written", ["Martin Fornusek", "MARTIN FORNUSEK", "m. fornusek", "M Fornusek"]
)
def test_directory_matching_ignores_case_punctuation_and_uses_aliases(written: str) -> None:
    assert Directory([FORNUSEK]).find(written) == FORNUSEK


def test_directory_matching_ignores_accents() -> None:
    assert Directory([DUPRE]).find("Zoe Dupre") == DUPRE


def test_several_authors_get_cards_and_unknown_ones_keep_their_name_only() -> None:
    cards = author_cards(
        ["Martin Fornusek", "Zoe Dupre", "Nobody Known"], Directory([FORNUSEK, DUPRE])
    )
    assert [c.slug for c in cards] == ["martin-fornusek", "zoe-dupre", None]
    assert cards[0].url == "/authors/martin-fornusek"
    assert cards[0].bio == "Reports on politics."
    assert cards[0].avatar_url == "https://img.example.org/m.jpg"
    assert cards[2].name == "Nobody Known" and cards[2].url is None


def test_a_changed_alias_list_forgets_the_old_alias() -> None:
    directory = Directory([FORNUSEK])
    directory.put(FORNUSEK.model_copy(update={"aliases": []}))
    assert directory.find("M. Fornusek") is None
    assert directory.find("Martin Fornusek") is not None


# --- bylines in the newsroom's own language ------------------------------------------------


@pytest.mark.parametrize(
    ("byline", "language", "names"),
    [
        ("By Jane Doe", "en", ["Jane Doe"]),
        ("Written by Jane Doe and John Roe", "en-GB", ["Jane Doe", "John Roe"]),
        ("Reporting by Jane Doe & John Roe", None, ["Jane Doe", "John Roe"]),
        ("Von Anna Meier und Bernd Roth", "de", ["Anna Meier", "Bernd Roth"]),
        ("Text: Anna Müller", "de-AT", ["Anna Müller"]),
        ("Par Jean Dupont et Marie Curie", "fr", ["Jean Dupont", "Marie Curie"]),
        ("Av Kari Nordmann og Ola Hansen", "nb-NO", ["Kari Nordmann", "Ola Hansen"]),
        ("Av Anna Svensson och Per Olsson", "sv", ["Anna Svensson", "Per Olsson"]),
        ("Af Jens Hansen og Mette Holm", "da", ["Jens Hansen", "Mette Holm"]),
        ("Por María López y Juan Pérez", "es", ["María López", "Juan Pérez"]),
        ("Por Ana Silva e João Souza", "pt-BR", ["Ana Silva", "João Souza"]),
        ("Door Jan de Vries en Piet Jansen", "nl", ["Jan de Vries", "Piet Jansen"]),
        ("Di Mario Rossi e Giulia Bianchi", "it", ["Mario Rossi", "Giulia Bianchi"]),
    ],
)
def test_bylines_are_read_in_the_newsrooms_language(
    byline: str, language: str | None, names: list[str]
) -> None:
    assert parse_byline(byline, language) == names


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("VON ANNA MEIER UND BERND ROTH", ["ANNA MEIER", "BERND ROTH"]),
        ("par jean dupont", ["jean dupont"]),
        ("AV KARI NORDMANN OG OLA HANSEN", ["KARI NORDMANN", "OLA HANSEN"]),
        ("DOOR JAN DE VRIES EN PIET JANSEN", ["JAN DE VRIES", "PIET JANSEN"]),
        ("Av Anna Svensson och Per Olsson", ["Anna Svensson", "Per Olsson"]),
    ],
)
def test_prefixes_and_conjunctions_are_understood_in_any_case_when_the_language_is_unknown(
    byline: str, names: list[str]
) -> None:
    assert parse_byline(byline) == names


@pytest.mark.parametrize(
    ("byline", "language", "names"),
    [
        ("Di Maria", "it", ["Di Maria"]),
        ("von der Leyen", None, ["von der Leyen"]),
        ("María López en Madrid", "es", ["María López"]),
        ("Kari Nordmann i Oslo", "nb", ["Kari Nordmann"]),
        ("Published A.M. Et Dec.", None, []),
    ],
)
def test_words_that_only_look_like_prefixes_or_conjunctions_stay_part_of_the_name(
    byline: str, language: str | None, names: list[str]
) -> None:
    assert parse_byline(byline, language) == names


# --- agencies are credited, not shown as people -------------------------------------------


@pytest.mark.parametrize(
    ("byline", "language", "expected"),
    [
        ("Von Christian Hollmann, dpa", "de", Byline(("Christian Hollmann",), "dpa")),
        ("NTB", "nb", Byline((), "NTB")),
        ("By Jane Doe and John Roe/AP", "en", Byline(("Jane Doe", "John Roe"), "AP")),
        ("Jane Doe (AFP)", None, Byline(("Jane Doe",), "AFP")),
        ("dpa/AFP", "de", Byline((), "dpa/AFP")),
        ("Martin Fornusek | Reuters", None, Byline(("Martin Fornusek",), "Reuters")),
        (
            "Par Jean Dupont et Marie Curie (AFP)",
            "fr",
            Byline(("Jean Dupont", "Marie Curie"), "AFP"),
        ),
        (
            "Av Kari Nordmann og Ola Hansen, NTB",
            "nb-NO",
            Byline(("Kari Nordmann", "Ola Hansen"), "NTB"),
        ),
        ("Av Anna Svensson/TT", "sv", Byline(("Anna Svensson",), "TT")),
        ("Por María López, EFE", "es", Byline(("María López",), "EFE")),
        ("Door Piet Jansen (ANP)", "nl", Byline(("Piet Jansen",), "ANP")),
        ("Di Giulia Bianchi (ANSA)", "it", Byline(("Giulia Bianchi",), "ANSA")),
        ("Jane Roe – dpa", None, Byline(("Jane Roe",), "dpa")),
        (
            "Von Christian Hollmann, dpa, und Anna Meier, AFP",
            "de",
            Byline(("Christian Hollmann", "Anna Meier"), "dpa/AFP"),
        ),
        ("The Associated Press", None, Byline((), "AP")),
        ("By DPA", None, Byline((), "dpa")),
        ("Keystone-SDA", "de-CH", Byline((), "Keystone-SDA")),
        ("Kyiv Independent news desk", None, Byline()),
    ],
)
def test_agencies_and_services_in_a_byline_become_its_credit(
    byline: str, language: str | None, expected: Byline
) -> None:
    assert read_byline(byline, language) == expected


REQUIRED_AGENCIES = [
    "dpa",
    "AP",
    "AFP",
    "Reuters",
    "NTB",
    "TT",
    "ANP",
    "APA",
    "EFE",
    "ANSA",
    "PA",
    "Xinhua",
    "Ritzau",
    "SDA",
    "Keystone-SDA",
    "KNA",
    "epd",
    "AAP",
    "CP",
    "UPI",
    "Kyodo",
    "Yonhap",
]


@pytest.mark.parametrize("agency", REQUIRED_AGENCIES)
def test_every_agency_alone_is_a_credit_and_after_a_name_credits_it(agency: str) -> None:
    assert agency in AGENCIES
    assert read_byline(agency) == Byline((), agency)
    assert read_byline(f"By Jane Doe, {agency}") == Byline(("Jane Doe",), agency)
    assert read_byline(f"Jane Doe/{agency}") == Byline(("Jane Doe",), agency)


def test_structured_authors_win_over_the_byline_which_still_gives_the_credit() -> None:
    hollmann = Contributor(name="Christian Hollmann", role="Korrespondent")
    authors = authors_of(
        ["Christian Hollmann", "Anna Meier"],
        "Von Somebody Else, dpa",
        contributors=[hollmann],
        language="de",
    )
    assert authors.names == ["Christian Hollmann", "Anna Meier"]
    assert authors.credit == "dpa"
    assert authors.described == {"christian hollmann": hollmann}
    assert authors_of([], "Von Somebody Else, dpa", language="de").names == ["Somebody Else"]
    assert byline_names([], "Von Somebody Else", contributors=[hollmann]) == ["Christian Hollmann"]


def test_an_agency_listed_as_a_structured_author_is_not_a_person() -> None:
    authors = authors_of(
        ["NTB"], "Av Kari Nordmann, NTB", contributors=[Contributor(name="NTB")], language="nb"
    )
    assert (authors.names, authors.credit) == (["Kari Nordmann"], "NTB")


def test_contributors_not_in_the_directory_get_cards_from_the_document() -> None:
    anna = Contributor(
        name="Anna Meier",
        role="Korrespondentin",
        bio="Berichtet aus Kyjiw.",
        avatar_url="https://img.example.org/anna.jpg",
        uri="urn:person:anna",
    )
    cards = author_cards(
        ["Martin Fornusek", "Anna Meier", "Nobody Known"], Directory([FORNUSEK]), [anna]
    )
    assert cards[0].slug == "martin-fornusek" and cards[0].url == "/authors/martin-fornusek"
    assert cards[1].model_dump() == {
        "name": "Anna Meier",
        "slug": None,
        "role": "Korrespondentin",
        "bio": "Berichtet aus Kyjiw.",
        "avatar_url": "https://img.example.org/anna.jpg",
        "url": None,
    }
    assert cards[2].model_dump(exclude_none=True) == {"name": "Nobody Known"}


def test_the_directory_wins_over_what_the_document_says_of_an_author() -> None:
    own = Contributor(name="Martin Fornusek", bio="An old bio sent with the story.")
    [only] = author_cards(["Martin Fornusek"], Directory([FORNUSEK]), [own])
    assert only.bio == "Reports on politics." and only.slug == "martin-fornusek"


# --- cost grows with the number of names, not with its square ---------------------------


def _word(n: int) -> str:
    letters = ""
    while True:
        n, r = divmod(n, 26)
        letters = string.ascii_lowercase[r] + letters
        if not n:
            return letters


def _names(count: int) -> list[str]:
    return [f"Ann{_word(i)} Lee{_word(i + 7)}" for i in range(count)]


def _best_seconds(run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _everything(names: list[str]) -> Callable[[], object]:
    """Cards and credit of two articles naming everyone: one with structured authors, one
    with only a byline."""
    byline = "By " + ", ".join(names) + ", dpa"
    structured = article(
        "urn:t:1",
        "Many authors",
        byline=byline,
        language="en",
        author_names=names,
        contributors=[Contributor(name=n, bio="b") for n in names],
    )
    by_line_only = article("urn:t:2", "Many authors", byline=byline, language="en")
    directory = Directory([FORNUSEK])

    def run() -> object:
        for story in (structured, by_line_only):
            cards = domain.author_cards(story, directory)
            assert len(cards) == len(names) and domain.authors_of(story).credit == "dpa"
        return cards

    return run


def test_reading_bylines_and_making_cards_grows_linearly_with_the_number_of_names() -> None:
    small, large = (
        _best_seconds(_everything(_names(2_000))),
        _best_seconds(_everything(_names(20_000))),
    )
    assert large / small < 30  # ten times the names: linear is ~10x, quadratic ~100x
