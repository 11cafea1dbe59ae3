"""Page text and dates in the story's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.publish import i18n

FEB_4 = datetime(2025, 2, 4, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("en", "en"),
        ("de", "de"),
        ("DE-at", "de"),
        ("fr-CA", "fr"),
        ("nb-NO", "nb"),
        ("no", "nb"),
        ("nn", "nb"),
        ("sv_SE", "sv"),
        ("es-419", "es"),
        ("zh-Hans", "zh"),
        ("zh-CN", "zh"),
        ("ja", "en"),
        ("", "en"),
        (None, "en"),
        ("x-klingon", "en"),
    ],
)
def test_a_language_tag_as_sent_is_read_as_one_of_the_languages_with_english_last(
    tag: str | None, code: str
) -> None:
    assert i18n.language(tag) == code


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "February 4, 2025"),
        ("de", "4. Februar 2025"),
        ("fr", "4 février 2025"),
        ("nb", "4. februar 2025"),
        ("sv", "4 februari 2025"),
        ("es", "4 de febrero de 2025"),
        ("zh", "2025年2月4日"),
    ],
)
def test_each_language_writes_the_date_its_own_way(lang: str, text: str) -> None:
    assert i18n.format_date(FEB_4, lang) == text


def test_the_date_is_the_utc_calendar_day_and_the_time_stays_with_its_utc() -> None:
    late = datetime.fromisoformat("2025-02-04T23:30:00-05:00")  # Feb 5, 04:30 UTC
    assert i18n.format_datetime(late, "de") == "5. Februar 2025 · 04:30\u00a0UTC"


def test_french_writes_the_first_of_the_month_as_premier() -> None:
    assert i18n.format_date(datetime(2025, 3, 1, tzinfo=UTC), "fr") == "1er mars 2025"


def test_every_language_has_every_string() -> None:
    keys = set(i18n.TEXTS["en"])
    for lang, strings in i18n.TEXTS.items():
        assert set(strings) == keys, lang
    assert set(i18n.DATE_FORMATS) == set(i18n.TEXTS)


def test_reading_time_and_labels_read_naturally() -> None:
    assert i18n.reading_time(2, "en") == "2 min read"
    assert i18n.reading_time(0, "de") == "1 Min. Lesezeit"
    assert i18n.labelled("photo", "AFP", "fr") == "Photo\u00a0: AFP"
    assert i18n.labelled("photo", "新华社", "zh") == "图片：新华社"
    assert i18n.texts("nb-NO")["related"] == "Relaterte saker"
