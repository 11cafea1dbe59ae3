"""One slug rule for stories, authors and subjects (shared/slugs.py)."""

from __future__ import annotations

from services.ingest.domain import slugify as story_slug
from shared.slugs import slugify


def test_headlines_names_and_subjects_become_ascii_words_joined_by_hyphens() -> None:
    assert slugify("Kursk Oblast") == "kursk-oblast"
    assert slugify("Česká politika") == "ceska-politika"
    assert slugify("Côte d'Ivoire") == "cote-divoire"
    assert slugify("Zelensky’s visit\u200b to Kyiv") == "zelenskys-visit-to-kyiv"
    assert slugify("北京") == "beijing"


def test_a_long_slug_ends_at_a_word_and_an_empty_one_falls_back() -> None:
    cut = slugify("word " * 40, max_length=22)
    assert cut == "word-word-word-word"
    assert slugify("¿?!") == ""
    assert story_slug("¿?!") == "article"
