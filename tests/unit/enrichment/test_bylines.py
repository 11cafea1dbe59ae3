"""Bylines as newsrooms write them, and matching them to the directory."""

from __future__ import annotations

import pytest

from services.enrichment.bylines import Directory, author_cards, byline_names, parse_byline
from shared.models import AuthorProfile


@pytest.mark.parametrize(("byline", "names"), [
    ("By Martin Fornusek and Kate Tsurkan", ["Martin Fornusek", "Kate Tsurkan"]),
    ("Anna Myroniuk, Alex Khrebet and Oleg Sukhov", ["Anna Myroniuk", "Alex Khrebet",
                                                     "Oleg Sukhov"]),
    ("Martin Fornusek | Reuters", ["Martin Fornusek"]),
    ("Olena Goncharova in Kyiv", ["Olena Goncharova"]),
    ("Kateryna Hodunova, Staff Reporter", ["Kateryna Hodunova"]),
    ("BY JANE DOE", ["JANE DOE"]),
    ("By Zoë Dupré in Paris and Jan Novák in Prague", ["Zoë Dupré", "Jan Novák"]),
    ("Reporting by Ann Lee; Editing by Bo Chan", ["Ann Lee"]),
    ("Kyiv Independent news desk", []),
    ("", []),
])
def test_newsroom_bylines_are_parsed_into_person_names(byline: str, names: list[str]) -> None:
    assert parse_byline(byline) == names


@pytest.mark.parametrize(("scraped", "names"), [
    (["Deutsche Welle", "Www.Example.Com", "Author", "Karl Grün"], ["Karl Grün"]),
    (["Jane Roe For Dailymail.Com"], ["Jane Roe"]),
    (["Dailymail.Com Reporter"], []),
    (["Reuters Editorial", "Min Read"], []),
    (["Pat Kim", "Press Association Sport Correspondent"], ["Pat Kim"]),
    (["Sam Hale", "Florida Today", "Published A.M. Et Dec."], ["Sam Hale"]),
    (["Ada Byron", "Alan Kay", "Opinion"], ["Ada Byron", "Alan Kay"]),
    (["The Associated Press"], []),
    (["Jose A. Delreal", "Jose A. Delreal"], ["Jose A. Delreal"]),
])
def test_noisy_scraped_bylines_keep_only_the_people(scraped: list[str], names: list[str]) -> None:
    assert byline_names(scraped, None) == names


def test_structured_author_names_win_over_the_byline_text() -> None:
    assert byline_names(["Martin Fornusek"], "By Somebody Else") == ["Martin Fornusek"]
    assert byline_names([], "By Somebody Else") == ["Somebody Else"]


FORNUSEK = AuthorProfile(name="Martin Fornusek", slug="martin-fornusek", role="Reporter",
                         bio="Reports on politics.", avatar_url="https://img.example.org/m.jpg",
                         aliases=["M. Fornusek"])
DUPRE = AuthorProfile(name="Zoë Dupré", slug="zoe-dupre")


@pytest.mark.parametrize("written", ["Martin Fornusek", "MARTIN FORNUSEK", "m. fornusek",
                                     "M Fornusek"])
def test_directory_matching_ignores_case_punctuation_and_uses_aliases(written: str) -> None:
    assert Directory([FORNUSEK]).find(written) == FORNUSEK


def test_directory_matching_ignores_accents() -> None:
    assert Directory([DUPRE]).find("Zoe Dupre") == DUPRE


def test_several_authors_get_cards_and_unknown_ones_keep_their_name_only() -> None:
    cards = author_cards(["Martin Fornusek", "Zoe Dupre", "Nobody Known"],
                         Directory([FORNUSEK, DUPRE]))
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
