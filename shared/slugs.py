"""Slugs: the one rule for turning a headline, a name or a subject into a URL path part."""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

_NON_WORD = re.compile(r"[^a-z0-9]+")
_INVISIBLE = {"Cf", "Cc", "Co", "Cs"}  # format (zero-width, bidi), control, private, surrogate


def slugify(value: str, *, fallback: str = "", max_length: int = 120) -> str:
    """ASCII, lower case, words joined by hyphens: `Côte d'Ivoire` -> `cote-divoire`.

    Invisible characters go, apostrophes join their word, anything else that is not a
    letter or digit separates words; a slug longer than `max_length` is cut at a word
    boundary. `fallback` when nothing is left."""
    value = unicodedata.normalize("NFKC", value)
    value = "".join(ch for ch in value if unicodedata.category(ch) not in _INVISIBLE)
    slug = _NON_WORD.sub("-", anyascii(value).lower().replace("'", "")).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug or fallback
