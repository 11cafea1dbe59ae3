"""Bodies chosen by content type, NITF converted, words counted in any script, media
items and pushed files."""

from __future__ import annotations

import time
from typing import Any

import pytest

from services.ingest import assets, domain, media, text
from services.ingest.domain import Invalid
from services.ingest.text import Candidate
from tests.media_samples import jpeg, mp3, mp4, png, svg

NITF = """<?xml version="1.0" encoding="UTF-8"?>
<nitf><head><title>Head title</title><docdata><doc-id id-string="x"/></docdata></head>
<body><body.head><hedline><hl1>Hedline</hl1></hedline><byline>By Desk</byline></body.head>
<body.content><p>First paragraph.</p><hl2>A sub head</hl2><p>Second <em>one</em>.</p>
</body.content><body.end><tagline>end</tagline></body.end></body></nitf>"""


def item(**fields: Any) -> dict[str, Any]:
    return {"uri": "urn:t:1", "headlines": [{"value": "Headline"}], **fields}


@pytest.mark.parametrize(
    ("bodies", "chosen"),
    [
        ([("text/plain", "plain"), ("text/html", "<p>html</p>")], "<p>html</p>"),
        ([("text/plain", "plain"), ("application/xhtml+xml", "<p>xhtml</p>")], "<p>xhtml</p>"),
        ([("application/nitf+xml", NITF), ("text/plain", "plain")], "plain"),
        ([("application/xml", "<x>raw</x>")], None),
        ([("text/vnd.IPTC.NITF", NITF)], NITF),
    ],
)
def test_a_body_is_chosen_html_first_then_xhtml_then_text_then_nitf(
    bodies: list[tuple[str, str]], chosen: str | None
) -> None:
    found = text.choose_body([Candidate(v, t) for t, v in bodies])
    assert (found.value if found else None) == chosen


def test_the_main_body_wins_over_another_role_whatever_its_content_type() -> None:
    found = text.choose_body(
        [
            Candidate("<p>Short summary.</p>", "text/html", "summary"),
            Candidate("The whole story.", "text/plain", "main"),
        ]
    )
    assert found is not None and found.value == "The whole story."


@pytest.mark.parametrize("contenttype", ["application/xml", "text/xml", None])
def test_nitf_sent_as_plain_xml_is_still_read_as_nitf(contenttype: str | None) -> None:
    found = text.choose_body([Candidate(NITF, contenttype)])
    assert found is not None and text.kind_of(found) == "nitf"


def test_nitf_becomes_its_body_content_without_head_headline_or_byline() -> None:
    html = text.body_html(Candidate(NITF, "application/nitf+xml"))
    assert html == "<p>First paragraph.</p><h2>A sub head</h2><p>Second <em>one</em>.</p>"


@pytest.mark.parametrize("unit", ["<note ", "<body.content ", "<?pi ", "<!-- ", "<hedline>"])
def test_nitf_conversion_grows_linearly_with_unclosed_tags(unit: str) -> None:
    def cost(n: int) -> float:
        value = "<nitf>" + unit * n
        start = time.perf_counter()
        text.nitf_to_html(value)
        return time.perf_counter() - start

    small, large = min(cost(4_000) for _ in range(3)), min(cost(64_000) for _ in range(3))
    assert large < 16 * 8 * max(small, 1e-4)  # 16x the input: far from 256x (quadratic)


def test_a_comment_or_declaration_in_nitf_leaves_no_trace() -> None:
    xml = (
        "<!DOCTYPE nitf><?xml-stylesheet x?><nitf><body.content><!-- a > b --><p>Kept.</p>"
        "</body.content></nitf>"
    )
    assert text.nitf_to_html(xml) == "<p>Kept.</p>"


def test_a_story_whose_only_body_is_nitf_is_never_published_as_raw_xml() -> None:
    doc = item(bodies=[{"contenttype": "application/nitf+xml", "value": NITF}])
    article = domain.normalize(domain.parse_article(doc), source="s")
    assert "<nitf" not in article.body_html and "Hedline" not in article.body_text
    assert article.body_text.startswith("First paragraph.")


def test_an_xml_body_galley_cannot_convert_is_skipped_for_a_description() -> None:
    doc = item(
        bodies=[{"contenttype": "application/xml", "value": "<x>raw</x>"}],
        descriptions=[{"role": "text", "value": "What happened."}],
    )
    article = domain.normalize(domain.parse_article(doc), source="s")
    assert article.body_html == "<p>What happened.</p>"


@pytest.mark.parametrize(
    ("value", "words", "chars"),
    [
        ("Three small words", 3, 0),
        ("中国国家统计局发布数据", 0, 11),
        ("日本語のテキスト", 0, 8),
        ("한국어 문장입니다", 0, 8),
        ("北京 Olympic 2008 年", 2, 3),
    ],
)
def test_words_are_counted_between_spaces_and_cjk_by_character(
    value: str, words: int, chars: int
) -> None:
    assert text.count(value) == text.Count(words, chars)


def test_a_chinese_story_of_600_characters_reads_in_three_minutes() -> None:
    article = domain.normalize(
        domain.parse_article(
            item(language="zh-Hans", bodies=[{"contenttype": "text/plain", "value": "新闻" * 300}])
        ),
        source="s",
    )
    assert article.word_count == 600
    assert article.reading_minutes == 3  # 600 characters at 255 a minute


def test_a_picture_item_becomes_its_media_with_caption_credit_and_copyright() -> None:
    doc = item(
        type="picture",
        by="Jo Photographer",
        copyrightnotice="(c) Agency",
        descriptions=[{"role": "caption", "value": "Boats in the harbour."}],
        renditions=[
            {
                "name": "thumbnail",
                "href": "https://img.example/t.jpg",
                "width": 200,
                "contenttype": "image/jpeg",
            },
            {
                "name": "original",
                "href": "https://img.example/o.jpg",
                "width": 6000,
                "contenttype": "image/jpeg",
            },
            {
                "name": "web",
                "href": "https://img.example/w.jpg",
                "width": 1600,
                "contenttype": "image/jpeg",
            },
        ],
    )
    article = domain.normalize(domain.parse_article(doc), source="s")
    assert article.type == "picture" and article.media is not None
    assert [r.name for r in article.media.renditions] == ["web", "original", "thumbnail"]
    assert (article.media.caption, article.media.credit, article.media.copyright) == (
        "Boats in the harbour.",
        "Jo Photographer",
        "(c) Agency",
    )


def test_a_rendition_that_is_not_a_picture_is_never_the_lead_image() -> None:
    doc = item(
        bodies=[{"value": "<p>Text.</p>"}],
        associations=[
            {
                "name": "featuremedia",
                "type": "picture",
                "renditions": [
                    {
                        "name": "web",
                        "href": "https://photos.example/pic/123",
                        "contenttype": "text/html",
                    },
                    {
                        "name": "thumbnail",
                        "href": "https://photos.example/t.jpg",
                        "width": 120,
                        "contenttype": "image/jpeg",
                    },
                    {
                        "name": "original",
                        "href": "https://photos.example/o.jpg",
                        "contenttype": "image/jpeg",
                    },
                ],
            }
        ],
    )
    lead = domain.normalize(domain.parse_article(doc), source="s").lead_image
    assert lead is not None and lead.href == "https://photos.example/o.jpg"


@pytest.mark.parametrize(
    ("media_id", "valid"),
    [
        ("60c7a1f2e4b0a91c3d5e7f01", True),
        ("2024/05/pic-1.jpg", True),
        ("a/./b", False),
        ("a/", False),
        ("/a", False),
        ("a//b", False),
        ("../x", False),
        ("a b", False),
    ],
)
def test_media_ids_are_path_like_names_without_dot_segments(media_id: str, valid: bool) -> None:
    assert media.valid_media_id(media_id) is valid


def test_a_video_item_gets_its_video_rendition_and_a_poster() -> None:
    doc = item(
        type="video",
        renditions=[
            {"name": "thumbnail", "href": "https://v.example/t.jpg", "contenttype": "image/jpeg"},
            {
                "name": "main",
                "href": "https://v.example/v.mp4",
                "contenttype": "video/mp4",
                "duration": 93,
            },
        ],
    )
    media = domain.normalize(domain.parse_article(doc), source="s").media
    assert media is not None
    assert [r.href for r in media.renditions] == ["https://v.example/v.mp4"]
    assert media.poster == "https://v.example/t.jpg" and media.main.duration == 93


def test_a_media_item_without_a_rendition_it_can_show_is_refused_at_its_renditions() -> None:
    doc = item(type="picture", renditions=[{"name": "x", "href": "ftp://old.example/a.jpg"}])
    with pytest.raises(Invalid) as caught:
        domain.normalize(domain.parse_article(doc), source="s")
    assert [e.pointer for e in caught.value.errors] == ["/renditions"]


def test_a_text_story_with_nothing_to_show_is_refused_but_a_kill_needs_no_body() -> None:
    with pytest.raises(Invalid) as caught:
        domain.normalize(domain.parse_article(item()), source="s")
    assert [e.pointer for e in caught.value.errors] == ["/bodies"]
    killed = domain.normalize(domain.parse_article(item(pubstatus="canceled")), source="s")
    assert killed.pubstatus == "canceled"


def test_a_pushed_file_is_shown_from_the_site_and_the_body_image_too() -> None:
    cms = "http://cms.example/api/upload-raw/abc.jpg"
    doc = {
        "guid": "urn:sd:1",
        "type": "text",
        "headline": "H",
        "body_html": f'<p>x</p><figure><img src="{cms}" alt="a"></figure>',
        "associations": {
            "featuremedia": {
                "guid": "urn:sd:p",
                "type": "picture",
                "renditions": {"original": {"href": cms, "media": "abc", "mimetype": "image/jpeg"}},
            }
        },
    }
    pushed = domain.normalize(domain.parse_article(doc), source="s", assets={"abc"})
    assert pushed.lead_image is not None and pushed.lead_image.href == "/media/abc"
    assert '<img src="/media/abc"' in pushed.body_html and cms not in pushed.body_html
    not_pushed = domain.normalize(domain.parse_article(doc), source="s")
    assert not_pushed.lead_image is not None and not_pushed.lead_image.href == cms


@pytest.mark.parametrize(
    ("content", "declared", "kept_as"),
    [
        (jpeg(), "image/jpeg", "image/jpeg"),
        (png(), "image/jpeg", "image/png"),  # the bytes decide the exact type
        (mp4(), "video/mp4", "video/mp4"),
        (mp3(), "audio/mp3", "audio/mpeg"),
        (jpeg(), None, "image/jpeg"),
    ],
)
def test_a_pushed_file_is_kept_with_the_type_its_bytes_say(
    content: bytes, declared: str | None, kept_as: str
) -> None:
    asset = assets.check(assets.Upload("ab/c-1.jpg", content, declared, "sd"), 10_000_000)
    assert (asset.mime_type, asset.size) == (kept_as, len(content))


@pytest.mark.parametrize(
    ("media_id", "content", "declared", "status"),
    [
        ("ok", svg(), "image/svg+xml", 415),
        ("ok", b"MZ\x90\x00 not media", "image/jpeg", 415),
        ("ok", jpeg(), "video/mp4", 415),  # a picture declared as video
        ("ok", b"", "image/jpeg", 422),
        ("../etc/passwd", jpeg(), "image/jpeg", 422),
        ("ok", jpeg() + b"\x00" * 2000, "image/jpeg", 413),
    ],
)
def test_a_pushed_file_that_is_not_a_known_media_type_or_too_big_is_refused(
    media_id: str, content: bytes, declared: str, status: int
) -> None:
    with pytest.raises(assets.AssetRefused) as caught:
        assets.check(assets.Upload(media_id, content, declared, "sd"), len(jpeg()) + 1000)
    assert caught.value.status == status
