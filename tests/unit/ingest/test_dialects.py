"""Every ninjs dialect is recognised from the document itself and read into one shape,
and an error still points into the document as it was sent."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingest import dialects, domain
from services.ingest.domain import Invalid

SUPERDESK = {
    "guid": "urn:newsml:sd.example.org:2024-03-01T10:00:00.000000:7f3c",
    "version": "2",
    "type": "text",
    "headline": "Ferry service resumes",
    "byline": "Kari Nordmann",
    "body_html": "<p>The ferry sails again.</p>",
    "priority": 5,
    "versioncreated": "2024-03-01T10:05:00+0000",
    "firstcreated": "2024-03-01T09:00:00+0000",
    "subject": [{"code": "04000000", "name": "economy", "scheme": "subject"}],
    "authors": [
        {
            "code": "u1",
            "name": "Kari Nordmann",
            "role": "writer",
            "biography": "Covers the coast.",
            "jobtitle": {"qcode": "r", "name": "Reporter"},
        }
    ],
}
NINJS_1 = {
    "uri": "urn:ex:1",
    "type": "text",
    "headline_main": "Bridge opens",
    "body_xhtml": "<p>The bridge opened.</p>",
    "byline": "Ola Normann",
    "associations": {
        "mainpic": {
            "type": "picture",
            "byline": "Photo desk",
            "renditions": {
                "small": {
                    "href": "https://img.example/s.jpg",
                    "mimetype": "image/jpeg",
                    "width": 180,
                },
                "big": {
                    "href": "https://img.example/b.jpg",
                    "mimetype": "image/jpeg",
                    "width": 1200,
                },
            },
        }
    },
}
NINJS_3 = {
    "uri": "urn:ex:3",
    "type": "text",
    "versionCreated": "2023-10-08T02:34:03+02:00",
    "firstCreated": "2023-10-08T01:00:00+02:00",
    "pubStatus": "usable",
    "headlines": [{"role": "main", "value": "Tour goes clean"}],
    "bodies": [{"role": "main", "contentType": "text/html", "value": "<p>Text.</p>"}],
    "embargoedUntil": "2023-10-08T03:00:00+02:00",
    "altIds": [{"role": "x", "value": "1"}],
}


@pytest.mark.parametrize(
    ("doc", "dialect"),
    [
        (SUPERDESK, "superdesk"),
        (NINJS_1, "ninjs-1"),
        ({"uri": "u", "headlines": [{"value": "h"}], "bodies": [{"value": "b"}]}, "ninjs-2"),
        (NINJS_3, "ninjs-3"),
        (
            {
                "uri": "u",
                "headlines": [{"value": "h"}],
                "bodies": [{"contentType": "text/plain", "value": "b"}],
            },
            "ninjs-3",
        ),
        ({"uri": "u", "standard": {"version": "3.1"}, "headlines": [{"value": "h"}]}, "ninjs-3"),
        ({"uri": "u", "headline": "h", "body_text": "b"}, "ninjs-1"),
        ({"uri": "u", "headline": "h", "authors": [], "body_html": "b"}, "superdesk"),
    ],
)
def test_the_dialect_is_read_from_the_document_itself(doc: dict[str, Any], dialect: str) -> None:
    assert dialects.detect(doc) == dialect


def test_superdesk_guid_dates_authors_and_subject_codes_are_read() -> None:
    article = domain.normalize(domain.parse_article(SUPERDESK), source="superdesk")
    assert article.uri == SUPERDESK["guid"]
    assert (article.dialect, article.source_version, article.version) == ("superdesk", "2", 2)
    assert article.versioncreated is not None and article.versioncreated.hour == 10
    assert article.headline == "Ferry service resumes"
    assert article.body_html == "<p>The ferry sails again.</p>"
    assert article.subjects == ["economy"]
    [author] = article.contributors
    assert (author.name, author.role, author.bio) == (
        "Kari Nordmann",
        "Reporter",
        "Covers the coast.",
    )
    assert article.author_names == ["Kari Nordmann"]
    assert article.ninjs["priority"] == 5  # what galley does not model is passed on


def test_ninjs_1_keyed_renditions_and_associations_become_lists_with_their_names() -> None:
    reading = dialects.canonical(NINJS_1)
    [picture] = reading.doc["associations"]
    assert picture["name"] == "mainpic" and picture["by"] == "Photo desk"
    assert [r["name"] for r in picture["renditions"]] == ["small", "big"]
    assert picture["renditions"][0]["contenttype"] == "image/jpeg"
    assert reading.doc["headlines"] == [{"role": "main", "value": "Bridge opens"}]
    assert reading.doc["bodies"][0]["contenttype"] == "application/xhtml+xml"
    article = domain.normalize(domain.parse_article(NINJS_1), source="s")
    assert article.lead_image is not None
    assert article.lead_image.href == "https://img.example/b.jpg"  # the wider one fits
    assert article.lead_image.credit == "Photo desk"
    assert article.byline == "Ola Normann"


def test_ninjs_3_camel_case_is_read_at_every_depth() -> None:
    article = domain.normalize(domain.parse_article(NINJS_3), source="s")
    assert article.firstcreated is not None and article.firstcreated.hour == 1
    assert article.versioncreated is not None and article.versioncreated.minute == 34
    assert article.embargoed is not None and article.embargoed.hour == 3
    assert article.body_html == "<p>Text.</p>"
    assert article.dialect == "ninjs-3"


def test_an_error_in_a_keyed_1x_association_points_into_the_document_as_sent() -> None:
    doc = {
        **NINJS_1,
        "associations": {
            "mainpic": {
                "type": "picture",
                "renditions": {"thumbnail": {"href": "https://img.example/t.jpg", "width": "wide"}},
            }
        },
    }
    with pytest.raises(Invalid) as caught:
        domain.parse_article(doc)
    assert [e.pointer for e in caught.value.errors] == [
        "/associations/mainpic/renditions/thumbnail/width"
    ]


def test_an_error_in_a_3x_document_names_the_camel_case_property() -> None:
    with pytest.raises(Invalid) as caught:
        domain.parse_article({**NINJS_3, "versionCreated": "yesterday"})
    assert [e.pointer for e in caught.value.errors] == ["/versionCreated"]
    with pytest.raises(Invalid) as caught:
        domain.parse_article({**NINJS_3, "bodies": [{"contentType": 3, "value": "x"}]})
    assert [e.pointer for e in caught.value.errors] == ["/bodies/0/contentType"]


def test_a_superdesk_item_without_its_guid_is_told_to_send_one() -> None:
    doc = {k: v for k, v in SUPERDESK.items() if k != "guid"} | {"authors": []}
    with pytest.raises(Invalid) as caught:
        domain.parse_article(doc)
    assert [e.pointer for e in caught.value.errors] == ["/guid"]


def test_a_missing_1x_headline_is_reported_at_headline() -> None:
    with pytest.raises(Invalid) as caught:
        domain.parse_article({"uri": "u", "body_text": "words"})
    assert [e.pointer for e in caught.value.errors] == ["/headline"]


@pytest.mark.parametrize(
    "doc",
    [
        {"uri": "u", "type": "event", "title": "Press conference"},
        {"uri": "u", "type": "planning", "title": "Coverage"},
        {"uri": "u", "title": "Match", "eventDetails": {"dates": {"startDate": "2024-01-01"}}},
    ],
)
def test_event_and_planning_items_are_refused_as_unsupported(doc: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as caught:
        domain.parse_article(doc)
    assert caught.value.problem == "unsupported-item-type"
    assert "not supported" in caught.value.errors[0].detail


def test_an_event_is_refused_as_unsupported_even_when_other_fields_are_wrong() -> None:
    with pytest.raises(Invalid) as caught:
        domain.parse_article({"uri": "e", "type": "event", "versioncreated": "yesterday"})
    assert caught.value.problem == "unsupported-item-type"
    assert [e.pointer for e in caught.value.errors] == ["/type"]


def test_superdesk_null_associations_are_skipped() -> None:
    doc = {
        **SUPERDESK,
        "associations": {
            "editor_0": None,
            "featuremedia": {
                "guid": "urn:pic",
                "type": "picture",
                "renditions": {
                    "viewImage": {"href": "https://cms.example/v.jpg", "mimetype": "image/jpeg"}
                },
            },
        },
    }
    article = domain.normalize(domain.parse_article(doc), source="s")
    assert article.lead_image is not None and article.lead_image.href.endswith("v.jpg")


def test_a_storys_own_dates_without_an_offset_are_read_as_utc_but_an_embargo_is_not() -> None:
    doc = {
        "uri": "u",
        "headline": "h",
        "body_text": "b",
        "firstcreated": "2018-05-28T16:40:08",
        "versioncreated": "2018-05-28T16:41:00",
    }
    article = domain.normalize(domain.parse_article(doc), source="s")
    assert article.firstcreated is not None and article.firstcreated.utcoffset() is not None
    assert article.firstcreated.isoformat() == "2018-05-28T16:40:08+00:00"
    with pytest.raises(Invalid) as caught:
        domain.parse_article({**doc, "embargoed": "2018-05-29T08:00:00"})
    assert [e.pointer for e in caught.value.errors] == ["/embargoed"]


@pytest.mark.parametrize(
    ("sent", "read"),
    [("story", "text"), ("photo", "picture"), ("package", "composite"), ("Picture", "picture")],
)
def test_item_types_some_producers_use_are_read_as_the_ninjs_type_they_mean(
    sent: str, read: str
) -> None:
    doc = {
        "uri": "u",
        "type": sent,
        "headline": "h",
        "body_text": "b",
        "renditions": {"web": {"href": "https://img.example/a.jpg", "mimetype": "image/jpeg"}},
    }
    assert domain.normalize(domain.parse_article(doc), source="s").type == read
