"""Text as newsrooms send it: choosing a body by content type, sanitizing HTML,
converting plain text and NITF, counting words in any script.

Pure functions, no IO.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from shared.infra.html import (  # noqa: F401 (names ingest's modules and tests use from here)
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    CONTROLS,
    MAX_MARKUP_DEPTH,
    decode_references,
    nests_deeper_than,
    sanitize_html,
    without_controls,
)
from shared.languages import primary

# --- sanitizing: one allowlist for every service (shared/infra/html.py) ------------------------


def text_to_html(text: str) -> str:
    """Plain text to escaped paragraphs: blank lines split paragraphs, newlines break lines."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    return "".join(
        "<p>" + "<br>".join(html.escape(line.strip()) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p
    )


_BLOCKS = {"p", "br", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "figcaption", "tr",
           "td", "th", "caption", "pre", "hr", "ul", "ol", "table", "figure"}  # fmt: skip


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.parts.append("\n" if tag in _BLOCKS else "")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append("\n" if tag in _BLOCKS else "")


_ANY_TAG = re.compile(r"<[^<>]*>")


def html_to_text(markup: str) -> str:
    """The text of sanitized markup, a line per block. Meant for what `sanitize_html` made:
    Python's HTMLParser is slow (quadratic) on malformed markup and can raise on it, so
    markup as a newsroom sent it goes through `sanitize_html` first."""
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
        text = "".join(collector.parts)
    except (AssertionError, ValueError):  # markup the parser gives up on: tags dropped
        text = html.unescape(_ANY_TAG.sub("\n", markup))
    lines = (" ".join(line.split()) for line in without_controls(text).split("\n"))
    return "\n".join(line for line in lines if line)


def looks_like_html(value: str) -> bool:
    return re.search(r"<(?:[a-zA-Z][a-zA-Z0-9]*[\s/>]|/[a-zA-Z]|!--)", value) is not None


# --- NITF ------------------------------------------------------------------------------------

# NITF's body markup is close to HTML; these parts of it are metadata, not text to show
_NITF_DROP = frozenset({
    "head", "body.head", "body.end", "hedline", "byline", "dateline", "distributor", "docdata",
    "tobject", "series", "abstract", "media-caption", "media-producer", "media-metadata", "note",
})  # fmt: skip
_CLOSE = {name: re.compile(rf"</{re.escape(name)}\s*>", re.I) for name in _NITF_DROP}
_CONTENT_OPEN = re.compile(r"<body\.content\b", re.I)
_CONTENT_CLOSE = re.compile(r"</body\.content\s*>", re.I)
_NITF_RENAME = {
    "hl2": "h2",
    "block": "div",
    "bq": "blockquote",
    "credit": "cite",
    "em": "em",
    "pronounce": "span",
    "chron": "span",
    "person": "span",
    "location": "span",
    "org": "span",
    "event": "span",
    "virtloc": "span",
    "classifier": "span",
    "money": "span",
    "num": "span",
    "object.title": "span",
    "function": "span",
    "copyrite": "small",
    "lang": "span",
    "nitf-table": "div",
}
_TAG = re.compile(r"<(/?)([A-Za-z][\w.\-]*)")


def nitf_to_html(xml: str) -> str:
    """The body of an NITF document as HTML (still to be sanitized): the
    `body.content`, with NITF's own block and inline tags mapped to HTML; the head,
    headline, byline and other metadata are left out. Never parses XML, so no entity
    in the document can expand, and every scan is linear in the document's length."""
    content = _body_content(xml)
    content = _without_metadata(content)
    content = _without_declarations(content)
    return _TAG.sub(
        lambda m: f"<{m.group(1)}{_NITF_RENAME.get(m.group(2).lower(), m.group(2))}", content
    )


def _body_content(xml: str) -> str:
    """What is inside <body.content>, or the whole document when it has none."""
    opened = _CONTENT_OPEN.search(xml)
    if opened is None:
        return xml
    start = xml.find(">", opened.end())
    closed = _CONTENT_CLOSE.search(xml, start + 1) if start >= 0 else None
    if start < 0 or closed is None:
        return xml
    return xml[start + 1 : closed.start()]


def _without_metadata(xml: str) -> str:
    """The document without the NITF metadata elements (each up to its first close tag).
    A name whose close tag is missing is not looked for again, so the scan stays linear."""
    parts, kept_from, at = [], 0, 0
    unclosed: set[str] = set()
    while (found := _TAG.search(xml, at)) is not None:
        name = found.group(2).lower()
        if found.group(1) or name not in _NITF_DROP or name in unclosed:
            at = found.end()
            continue
        closed = _CLOSE[name].search(xml, found.end())
        if closed is None:
            unclosed.add(name)
            at = found.end()
            continue
        parts.append(xml[kept_from : found.start()])
        kept_from = at = closed.end()
    parts.append(xml[kept_from:])
    return "".join(parts)


def _without_declarations(xml: str) -> str:
    """Without `<?...?>` processing instructions and `<!DOCTYPE ...>` (linear)."""
    parts, at = [], 0
    while True:
        start = min((i for i in (xml.find("<?", at), xml.find("<!", at)) if i >= 0), default=-1)
        if start < 0:
            break
        close = "-->" if xml.startswith("<!--", start) else "?>" if xml[start + 1] == "?" else ">"
        end = xml.find(close, start + 2)
        if end < 0:
            break
        parts.append(xml[at:start])
        at = end + len(close)
    parts.append(xml[at:])
    return "".join(parts)


# --- choosing the body --------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One body (or description standing in for one) as sent."""

    value: str
    contenttype: str | None
    role: str | None = None


# the order a body is chosen in, by what its content type says it is
_RANK = {"html": 0, "xhtml": 1, "text": 2, "nitf": 3}


def kind_of(candidate: Candidate) -> str:
    """html, xhtml, text, nitf, or xml (an XML dialect galley does not convert)."""
    kind = (candidate.contenttype or "").lower().split(";")[0].strip()
    value = candidate.value.lstrip()[:400].lower()
    xml_or_none = not kind or kind.endswith(("/xml", "+xml"))
    if "nitf" in kind or (xml_or_none and "<nitf" in value):
        return "nitf"
    if kind in ("text/html", "html"):
        return "html"
    if "xhtml" in kind:
        return "xhtml"
    if kind.startswith("text/plain") or kind == "text":
        return "text"
    if kind.endswith(("/xml", "+xml")) or value.startswith("<?xml"):
        return "xml"
    if kind:  # some other type (markdown, richtext, ...): judge by the value
        return "html" if looks_like_html(candidate.value) else "text"
    return "html" if looks_like_html(candidate.value) else "text"


def choose_body(candidates: Sequence[Candidate]) -> Candidate | None:
    """The body to show. When some body has the role "main", only those are considered
    (another role may be a summary); among them HTML first, then XHTML, then plain text,
    then NITF (converted); another XML dialect is skipped, never shown raw; then order."""
    usable = [(i, c, kind_of(c)) for i, c in enumerate(candidates) if c.value.strip()]
    usable = [u for u in usable if u[2] in _RANK]
    main = [u for u in usable if (u[1].role or "").lower() == "main"]
    if not (main or usable):
        return None
    _, best, _ = min(main or usable, key=lambda u: (_RANK[u[2]], u[0]))
    return best


def body_html(candidate: Candidate | None, image_src: Callable[[str], str] | None = None) -> str:
    """The chosen body as sanitized HTML."""
    if candidate is None:
        return ""
    kind = kind_of(candidate)
    if kind == "text":
        return text_to_html(candidate.value)
    value = nitf_to_html(candidate.value) if kind == "nitf" else candidate.value
    return sanitize_html(value, image_src=image_src)


# --- counting --------------------------------------------------------------------------------

WORDS_PER_MINUTE = 230
# Scripts written without spaces between words are counted by character, at these
# reading rates (characters per minute): Chinese 255 and Japanese 357 are the standardized
# rates of Trauzettel-Klosinski et al. (2012, IReST). Korean separates words by spaces but
# a word is a few syllable blocks; it is counted by character too, at 300 (an estimate:
# IReST has no Korean). Superdesk's default for Japanese is 600.
CHARS_PER_MINUTE = {"zh": 255, "ja": 357, "ko": 300}
DEFAULT_CHARS_PER_MINUTE = 300


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2EBEF
        or 0x3040 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0x31F0 <= code <= 0x31FF
        or 0x1100 <= code <= 0x11FF
    )


@dataclass(frozen=True)
class Count:
    words: int  # words between spaces, not counting CJK characters
    chars: int  # CJK characters (Han, kana, Hangul)

    @property
    def total(self) -> int:
        """The word count shown: words plus CJK characters, each counted as a word."""
        return self.words + self.chars


def count(text: str) -> Count:
    """Words in space-separated scripts and characters in CJK ones, in one pass."""
    if text.isascii():
        return Count(len(text.split()), 0)
    chars = sum(1 for ch in text if _is_cjk(ch))
    if not chars:
        return Count(len(text.split()), 0)
    spaced = "".join(" " if _is_cjk(ch) else ch for ch in text)
    words = sum(1 for w in spaced.split() if any(unicodedata.category(c)[0] in "LN" for c in w))
    return Count(words, chars)


def reading_minutes(counted: Count, language: str | None = None) -> int:
    """Minutes to read: words at 230 a minute plus CJK characters at their language's rate."""
    rate = CHARS_PER_MINUTE.get(primary(language) or "", DEFAULT_CHARS_PER_MINUTE)
    minutes = counted.words / WORDS_PER_MINUTE + counted.chars / rate
    return max(1, math.ceil(minutes - 1e-9))
