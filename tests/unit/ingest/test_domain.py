"""Pure ingest rules: validation, normalizing, sanitizing, slugs, versions, lifecycle."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.ingest import domain
from services.ingest.domain import Current, Decision, Invalid


def ninjs(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uri": "urn:test:1",
        "version": "1",
        "headlines": [{"role": "main", "value": "A headline"}],
        "bodies": [
            {"role": "main", "contenttype": "text/html", "value": "<p>Some words here.</p>"}
        ],
    }
    return {**base, **fields}


def pointers(raw: Any) -> list[str]:
    with pytest.raises(Invalid) as caught:
        domain.parse_article(raw)
    return [e.pointer for e in caught.value.errors]


def test_the_seed_article_has_346_words_and_a_two_minute_read(seed_article: dict) -> None:
    article = domain.normalize(domain.parse_article(seed_article), source="superdesk")
    assert article.word_count == 346
    assert article.reading_minutes == 2
    assert article.author_names == ["Martin Fornusek"]
    assert article.subjects[:2] == ["North Korea", "Russia"]
    assert article.lead_image is not None
    assert article.lead_image.href == "https://images.example.org/kpa-parade-2017.jpg"
    assert article.lead_image.credit == "Ed Jones/AFP via Getty Images"
    assert article.body_html.startswith("<p>North Korean troops")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1", "1"),
        (" 12 ", "12"),
        (7, "7"),
        ("0", "0"),
        (0, "0"),
        ("2.1", "2.1"),
        ("v3-final", "v3-final"),
        (None, None),
    ],
)
def test_a_version_is_any_string_and_a_number_is_read_as_its_digits(
    given: Any, expected: str | None
) -> None:
    article = domain.normalize(domain.parse_article(ninjs(version=given)), source="s")
    assert article.source_version == expected


@pytest.mark.parametrize("given", [True, 1.5, [], {"v": 1}])
def test_a_version_that_is_not_a_string_or_a_whole_number_is_refused_at_its_pointer(
    given: Any,
) -> None:
    assert pointers(ninjs(version=given)) == ["/version"]


def test_a_document_without_a_version_is_accepted() -> None:
    raw = ninjs()
    del raw["version"]
    assert domain.parse_article(raw).doc.version is None


def test_a_missing_uri_and_a_missing_headline_are_both_reported() -> None:
    raw = ninjs()
    del raw["uri"], raw["headlines"]
    assert pointers(raw) == ["/uri", "/headlines"]


def test_a_wrongly_typed_headline_value_is_reported_at_its_exact_pointer() -> None:
    assert pointers(ninjs(headlines=[{"value": 42}])) == ["/headlines/0/value"]


def test_a_naive_embargo_time_is_refused() -> None:
    assert pointers(ninjs(embargoed="2025-02-05T09:00:00")) == ["/embargoed"]


def test_a_naive_scheduled_publish_time_is_refused() -> None:
    assert pointers(ninjs(**{"x-galley-publish-at": "2025-02-05T09:00:00"})) == [
        "/x-galley-publish-at"
    ]


def test_an_unknown_pubstatus_is_refused_and_unknown_properties_are_kept() -> None:
    assert pointers(ninjs(pubstatus="deleted")) == ["/pubstatus"]
    doc = domain.parse_article(ninjs(urgency=3, located="Kyiv"))
    assert domain.normalize(doc, source="s").ninjs["located"] == "Kyiv"


def test_a_document_that_is_not_an_object_is_refused_at_the_root() -> None:
    assert pointers([1, 2]) == [""]


def test_ninjs_1_x_spellings_are_understood() -> None:
    raw = {
        "uri": "urn:old",
        "version": 2,
        "headline": "Old style",
        "body_text": "Hello\n\nWorld",
        "associations": {
            "featuremedia": {
                "type": "picture",
                "renditions": [{"name": "original", "href": "https://img.example/a.jpg"}],
            }
        },
    }
    article = domain.normalize(domain.parse_article(raw), source="s")
    assert article.headline == "Old style"
    assert article.body_html == "<p>Hello</p><p>World</p>"
    assert article.lead_image is not None and article.lead_image.href == "https://img.example/a.jpg"


def test_a_plain_text_body_becomes_escaped_paragraphs() -> None:
    body = {
        "role": "main",
        "contenttype": "text/plain",
        "value": "First <b>line</b>\nsame paragraph\n\nSecond & last",
    }
    article = domain.normalize(domain.parse_article(ninjs(bodies=[body])), source="s")
    assert article.body_html == (
        "<p>First &lt;b&gt;line&lt;/b&gt;<br>same paragraph</p><p>Second &amp; last</p>"
    )
    assert article.word_count == 7


XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<p onclick="alert(1)" onmouseover="alert(2)">hi</p>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="java&#x09;script:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
    '<img srcset="javascript:alert(1) 1x" src="https://ok.example/a.jpg">',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)">x</math>',
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<!--<img src=x onerror=alert(1)>-->",
    '<a href="vbscript:msgbox(1)">x</a>',
    '<img src="javascript:alert(1)">',
]
EXECUTABLE = re.compile(
    r"<\s*(script|style|iframe|svg|math|base|meta|object|embed|form|noscript|link)\b"
    r"|\son\w+\s*=|javascript:|vbscript:|data:|srcset|style\s*=",
    re.IGNORECASE,
)


@pytest.mark.parametrize("payload", XSS)
def test_an_xss_payload_leaves_nothing_executable_in_the_body(payload: str) -> None:
    body = {"role": "main", "contenttype": "text/html", "value": f"<p>before</p>{payload}"}
    article = domain.normalize(domain.parse_article(ninjs(bodies=[body])), source="s")
    assert EXECUTABLE.search(article.body_html) is None, article.body_html
    assert article.body_html.startswith("<p>before</p>")


def test_figures_tables_and_safe_links_survive_sanitizing_and_links_get_rel() -> None:
    html = (
        '<h2>Sub</h2><figure><img src="https://img.example/a.jpg" alt="A">'
        "<figcaption>Caption</figcaption></figure>"
        "<table><tr><td>1</td></tr></table><blockquote>Quote</blockquote>"
        '<ul><li><a href="https://example.org">web</a></li>'
        '<li><a href="mailto:desk@example.org">mail</a></li></ul>'
    )
    clean = domain.sanitize_html(html)
    for fragment in [
        '<img src="https://img.example/a.jpg" alt="A">',
        "<figcaption>Caption",
        "<td>1</td>",
        "<blockquote>Quote",
        "<h2>Sub</h2>",
        '<a href="https://example.org" rel="noopener noreferrer">',
        '<a href="mailto:desk@example.org" rel="noopener noreferrer">',
    ]:
        assert fragment in clean


def test_slugs_transliterate_cyrillic() -> None:
    assert domain.slugify("Зеленський відвідав Харків") == "zelenskiy-vidvidav-kharkiv"


def test_slugs_drop_zero_width_and_bidi_characters() -> None:
    sneaky = "Kyiv\u200b news \u202eevil\u202c and\u2066 more\u2069\ufeff"
    assert domain.slugify(sneaky) == "kyiv-news-evil-and-more"


def test_a_cyrillic_lookalike_letter_gives_an_ascii_slug() -> None:
    assert domain.slugify("P\u0430ris") == "paris"  # Cyrillic "а"


def test_slugs_are_lowercase_hyphenated_and_bounded() -> None:
    slug = domain.slugify("North Korea's troops — absent?! " + "word " * 40)
    assert slug.startswith("north-koreas-troops-absent-word-")
    assert len(slug) <= domain.SLUG_MAX and not slug.endswith("-")
    assert domain.slugify("!!!") == "article"


def test_slug_candidates_count_up_from_two() -> None:
    candidates = domain.slug_candidates("story")
    assert [next(candidates) for _ in range(3)] == ["story", "story-2", "story-3"]


@pytest.mark.parametrize(
    ("version", "digest", "decision"),
    [
        ("3", "h3", Decision.ACCEPTED),
        ("10", "h10", Decision.ACCEPTED),  # numbers, not text: "10" comes after "2"
        ("1", "other", Decision.STALE),
        ("2", "h2", Decision.DUPLICATE),
        ("2", "changed", Decision.CONFLICT),
        ("2.1", "h21", Decision.ACCEPTED),
        ("2.0", "h2", Decision.DUPLICATE),  # "2.0" is version 2
    ],
)
def test_a_numeric_version_is_decided_against_the_stored_one_as_a_number(
    version: str, digest: str, decision: Decision
) -> None:
    current = Current(2, "h2", "slug", source_version="2")
    assert domain.decide(current, domain.Incoming(version, None, digest)) is decision


T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("version", "created", "digest", "decision"),
    [
        ("b", T0 + timedelta(minutes=5), "hb", Decision.ACCEPTED),
        ("z", T0 - timedelta(minutes=5), "hz", Decision.STALE),
        ("a", T0 + timedelta(minutes=5), "ha2", Decision.CONFLICT),  # the same version string
        ("b", T0, "hb2", Decision.ACCEPTED),  # another version dated the same: arrival decides
        (None, T0, "hn2", Decision.ACCEPTED),
        ("a", T0, "ha", Decision.DUPLICATE),
        (None, T0 + timedelta(minutes=1), "hn", Decision.ACCEPTED),
        (None, None, "ha", Decision.DUPLICATE),  # cannot be ordered: the same content is a repeat
        (None, None, "new", Decision.ACCEPTED),  # ... and other content comes after, as it arrives
    ],
)
def test_versions_that_are_not_numbers_are_ordered_by_versioncreated_then_arrival(
    version: str | None, created: datetime | None, digest: str, decision: Decision
) -> None:
    current = Current(1, "ha", "slug", source_version="a", versioncreated=T0)
    assert domain.decide(current, domain.Incoming(version, created, digest)) is decision


def test_the_first_version_of_a_uri_is_always_accepted() -> None:
    assert domain.decide(None, domain.Incoming("5", None, "h")) is Decision.ACCEPTED


@pytest.mark.parametrize(
    ("stored", "sent", "ordinal"),
    [
        (None, "0", 0),
        (None, "3", 3),
        (None, None, 1),
        (None, "abc", 1),
        (Current(3, "h", "s", "3"), "7", 7),
        (Current(3, "h", "s", "3"), "3.1", 4),
        (Current(3, "h", "s", "x"), None, 4),
        (Current(9, "h", "s", "9"), str(2**60), 10),
    ],
)
def test_galleys_version_is_the_newsrooms_whole_number_else_one_more_than_stored(
    stored: Current | None, sent: str | None, ordinal: int
) -> None:
    assert domain.ordinal(stored, sent) == ordinal


@pytest.mark.parametrize(
    ("fields", "seen", "lifecycle"),
    [
        ({}, False, "published"),
        ({}, True, "updated"),
        ({"pubstatus": "canceled"}, True, "killed"),
        ({"pubstatus": "withheld"}, False, "killed"),
        (
            {"descriptions": [{"role": "correction", "value": "We misspelled a name."}]},
            True,
            "corrected",
        ),
    ],
)
def test_the_lifecycle_follows_pubstatus_corrections_and_history(
    fields: dict[str, Any], seen: bool, lifecycle: str
) -> None:
    assert domain.lifecycle_of(domain.parse_article(ninjs(**fields)), seen_before=seen) == lifecycle


def test_a_correction_note_is_carried_as_plain_text() -> None:
    note = {"role": "correction", "value": "An earlier version <b>misnamed</b> the agency."}
    doc = domain.parse_article(ninjs(descriptions=[note]))
    assert domain.normalize(doc, source="s").correction == (
        "An earlier version misnamed the agency."
    )


def test_visibility_follows_embargo_and_schedule_by_the_given_clock() -> None:
    now = datetime(2025, 2, 4, 8, 0, tzinfo=UTC)
    later = (now + timedelta(hours=1)).isoformat()
    embargoed = domain.normalize(domain.parse_article(ninjs(embargoed=later)), source="s")
    scheduled = domain.normalize(
        domain.parse_article(ninjs(**{"x-galley-publish-at": later})), source="s"
    )
    assert domain.visibility(embargoed, now) == "embargoed"
    assert domain.visibility(scheduled, now) == "scheduled"
    assert domain.visibility(embargoed, now + timedelta(hours=2)) == "visible"
    assert scheduled.visible_from == now + timedelta(hours=1)


def test_the_same_content_gives_the_same_hash_whatever_the_version_spelling() -> None:
    first = domain.content_hash(domain.parse_article(ninjs(version="2")))
    assert first == domain.content_hash(domain.parse_article(ninjs(version=2)))
    assert first != domain.content_hash(domain.parse_article(ninjs(version=2, language="uk")))


def test_an_author_without_a_slug_gets_one_from_the_name() -> None:
    assert domain.parse_author({"name": "Олена Рощина"}).slug == "olena-roshchina"


def test_an_author_with_a_bad_avatar_url_is_refused_at_its_pointer() -> None:
    with pytest.raises(Invalid) as caught:
        domain.parse_author({"name": "A", "slug": "a", "avatar_url": "not a url"})
    assert [e.pointer for e in caught.value.errors] == ["/avatar_url"]


def test_a_parsed_document_nested_too_deeply_is_refused_whichever_door_it_came_through() -> None:
    deep: Any = "leaf"
    for _ in range(900):
        deep = [deep]
    assert pointers(ninjs(extra=deep)) == [""]
    assert domain.nesting_depth({"a": [{"b": []}]}, 64) == 4
