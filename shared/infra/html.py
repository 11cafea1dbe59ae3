"""HTML a page may show: one allowlist for every service, and text fit for XML.

Ingest sanitizes every body it accepts with it; publish sanitizes again what it
renders (an entry written straight to its input stream skips ingest). Every step is
linear in the size of the markup: the HTML parser underneath (html5ever, in nh3)
is not, on some inputs, so those inputs are prepared or refused first.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "strong", "em", "b",
    "i", "u", "s", "sub", "sup", "small", "mark", "q", "cite", "abbr", "code", "pre", "span",
    "figure", "img", "figcaption", "blockquote", "table", "caption", "thead", "tbody", "tfoot",
    "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "abbr": {"title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}
DROP_WITH_CONTENT = {"script", "style", "iframe", "svg", "math", "noscript", "template",
                     "object", "embed", "title", "textarea", "select", "frameset"}  # fmt: skip


# Characters no page, feed or database should carry: the C0 controls but tab, line feed and
# carriage return (XML 1.0 cannot carry them), DEL and the C1 controls, and the
# noncharacters U+FDD0-U+FDEF, U+FFFE and U+FFFF. Removed from every string a document
# brings, and from what sanitizing and character references make of it.
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


def without_controls(text: str) -> str:
    """`text` without the characters `CONTROLS` matches."""
    return CONTROLS.sub("", text) if CONTROLS.search(text) else text


# Character references are decoded before the sanitizer sees the markup: html5ever (in nh3)
# takes time quadratic in the number of references in one run of text (a 2 MB body of
# "&a" took 16 s). A reference to & < > " ' stands in as a noncharacter, so it can never
# become markup, and is written back as a reference afterwards; every other & is a literal
# ampersand. So the sanitizer never meets a "&" at all.
_STAND_IN = {"&": "\ufdd0", "<": "\ufdd1", ">": "\ufdd2", '"': "\ufdd3", "'": "\ufdd4"}
_WRITTEN_BACK = str.maketrans(
    {"\ufdd0": "&amp;", "\ufdd1": "&lt;", "\ufdd2": "&gt;", "\ufdd3": "&quot;", "\ufdd4": "&#39;"}
)
_REAL = str.maketrans({v: k for k, v in _STAND_IN.items()})
_REFERENCE = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{0,31});")


def _decoded_reference(match: re.Match[str]) -> str:
    written = match.group(0)
    decoded = html.unescape(written)
    if decoded == written:  # not a reference HTML knows: the text as it stands
        return _STAND_IN["&"] + written[1:]
    return "".join(_STAND_IN.get(c, c) for c in decoded)


def decode_references(markup: str) -> str:
    """`markup` with its character references decoded (those ending in ";"; a reference to
    & < > " ' as a stand-in) and every other "&" a stand-in for a literal ampersand."""
    if "&" not in markup:
        return markup
    return _REFERENCE.sub(_decoded_reference, markup).replace("&", _STAND_IN["&"])


# Elements that never hold others open: void ones, and those an HTML parser closes by itself
# when the next one starts (a run of <p> or <li> is flat, not nested).
_FLAT = frozenset(
    """area base br col embed hr img input link meta param source track wbr p li dt dd tr td
    th thead tbody tfoot caption colgroup option optgroup rb rt rp""".split()
)
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9.:_-]*)")
MAX_MARKUP_DEPTH = 256  # elements open at once; a browser's parser stops nesting at 512


def nests_deeper_than(markup: str, limit: int = MAX_MARKUP_DEPTH) -> bool:
    """Whether the elements of `markup` nest deeper than `limit`, as its tags say (an
    over-estimate for unclosed containers). One linear scan. html5ever (in nh3) takes time
    quadratic in the depth of unclosed nesting (16,000 unclosed <ul> took a second, a
    million bytes of them minutes), so deeper markup is never sanitized."""
    if markup.count("<") <= limit:
        return False
    depth = 0
    for tag in _TAG_NAME.finditer(markup):
        if tag.group(2).lower() in _FLAT:
            continue
        if tag.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > limit:
                return True
    return False


def sanitize_html(markup: str, *, image_src: Callable[[str], str] | None = None) -> str:
    """Keep only the allowlisted markup; links get rel="noopener noreferrer"; no control
    character survives. Linear in the markup (see `decode_references`); markup nested
    deeper than MAX_MARKUP_DEPTH (ingest refuses it at the door) is read as text only.

    `image_src` may rewrite an <img src> (to a pushed asset's address on the site)."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute in URL_ATTRIBUTES and not safe_url(value.translate(_REAL)):
            return None  # e.g. cite="javascript:...", which the allowlist alone lets by
        if image_src is not None and tag == "img" and attribute == "src":
            real = value.translate(_REAL)
            rewritten = image_src(real)
            return value if rewritten == real else rewritten
        return value

    markup = without_controls(markup)
    if nests_deeper_than(markup):
        markup = _ANY_TAG.sub(" ", markup)
    cleaned = nh3.clean(
        decode_references(markup),
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=keep,
    ).strip()
    return without_controls(cleaned.translate(_WRITTEN_BACK))


URL_ATTRIBUTES = frozenset({"href", "src", "cite"})


def safe_url(value: str) -> bool:
    """An http(s) or mailto URL, or a reference within the site (a path, not `//host`
    with another scheme); never javascript:, data:, vbscript: or anything else."""
    text = "".join(value.split()).lower()  # browsers ignore whitespace inside a scheme
    scheme = urlsplit(text).scheme
    return scheme in URL_SCHEMES if scheme else not text.startswith("\\")


_ANY_TAG = re.compile(r"<[^<>]*>")
