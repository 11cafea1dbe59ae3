"""Language tags as newsroom systems send them, read one way in every service.

A story's `language` is a BCP 47 tag ("en", "de-DE", "nb-NO", "zh-Hans") or, from some
systems, an ISO 639-2 code ("ger", "nor"). Every service matches and labels by the
primary language alone, lower case; Norwegian ("no", "nn") is read as Bokmål ("nb").
"""

from __future__ import annotations

import re

ALIASES = {
    "no": "nb", "nn": "nb", "nor": "nb", "nob": "nb", "eng": "en", "ger": "de", "deu": "de",
    "fre": "fr", "fra": "fr", "swe": "sv", "dan": "da", "spa": "es", "por": "pt",
    "dut": "nl", "nld": "nl", "ita": "it", "chi": "zh", "zho": "zh", "jpn": "ja", "kor": "ko",
}  # fmt: skip

_SEPARATOR = re.compile(r"[-_\s]")


def primary(tag: str | None) -> str | None:
    """'de-DE' -> 'de', 'nb-NO' and 'no' -> 'nb', 'zh-Hans' -> 'zh'; None for no tag."""
    if not tag or not tag.strip():
        return None
    first = _SEPARATOR.split(tag.strip(), maxsplit=1)[0].lower()
    return ALIASES.get(first, first) or None
