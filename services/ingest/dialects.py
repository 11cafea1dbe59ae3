"""Every ninjs dialect, read into one shape: the spellings of ninjs 2.x.

Newsroom systems send ninjs in several dialects, and a document says which by
its own shape, never by a flag:

* ninjs 1.x (IPTC): `headline`, `headline_<role>`, `body_<format>`,
  `description_<format>`, `byline`, `person`, `subject`, `genre`, `place`,
  `organisation`; `renditions`, `associations` and `altids` as objects keyed by
  name; `mimetype` on renditions.
* Superdesk's flavour of 1.x: the same, with `guid` instead of `uri`, and
  `authors`, `firstpublished`, `priority`, `service`, `keywords`, `extra`;
  renditions carry the CMS's `media` id.
* ninjs 2.x: `headlines[]`, `bodies[]`, `descriptions[]`, `by`, `people[]`,
  `subjects[]`, lists of renditions and associations with a `name`.
* ninjs 3.x: the 2.x structure in camelCase (`versionCreated`, `pubStatus`,
  `contentType`, `embargoedUntil`, `altIds`, ...).

`canonical()` turns any of them into the 2.x spellings and remembers, for every
value it moved or renamed, where it stood in the document as sent, so that an
error found later still points into the sender's own document
(`/associations/mainpic/renditions/thumbnail/width`, not `/associations/0/...`).
Nothing is dropped: properties galley does not know are kept under their own
names, and the document as sent is passed on too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.envelope import json_pointer
from shared.models import Dialect

Path = tuple[str | int, ...]

# ninjs 3.x camelCase -> 2.x spelling, where lower-casing alone is not the answer
_RENAMED_3 = {"embargoedUntil": "embargoed"}
# 2.x property names, at any depth, that 3.x spells in camelCase
_KNOWN_2 = frozenset(
    """
    altids charcount contactinfo contentcreated contenttype copyrightholder copyrightnotice
    digitalsourcetype ednote eventdetails firstcreated infosources plannedcoverage pubstatus
    representationtype rightsinfo sizeinbytes trustindicators usageterms versioncreated
    wordcount aspectratio framerate videocodec scantype transportprotocol eventstatus
    plannedcoveragestatus startdate enddate expectedstartdate expectedenddate
    expectedduration linkedrights encodedrights langid
""".split()
)
# 1.x property -> 2.x property, for the lists whose items keep their shape
_LISTS_1 = {
    "person": "people",
    "subject": "subjects",
    "genre": "genres",
    "place": "places",
    "organisation": "organisations",
    "object": "objects",
    "event": "events",
    "infosource": "infosources",
    "trustindicator": "trustindicators",
}
_PATTERN_1 = re.compile(r"^(headline|body|description)_([A-Za-z0-9_]+)$")
_PLURAL = {"headline": "headlines", "body": "bodies", "description": "descriptions"}
# what a 1.x `body_<suffix>` / `description_<suffix>` says about its format
_SUFFIX_TYPES = {
    "html": "text/html",
    "richtext": "text/html",
    "xhtml": "application/xhtml+xml",
    "text": "text/plain",
    "plain": "text/plain",
    "nitf": "application/nitf+xml",
    "xml": "application/xml",
}
_MARKERS_3 = frozenset(
    {
        "versionCreated",
        "firstCreated",
        "pubStatus",
        "embargoedUntil",
        "altIds",
        "representationType",
        "copyrightHolder",
        "copyrightNotice",
        "usageTerms",
        "edNote",
        "contentCreated",
        "infoSources",
        "trustIndicators",
        "rightsInfo",
        "digitalSourceType",
        "eventDetails",
        "plannedCoverage",
    }
)
_MARKERS_1 = frozenset(
    {
        "headline",
        "byline",
        "person",
        "subject",
        "genre",
        "place",
        "organisation",
        "object",
        "event",
        "infosource",
        "trustindicator",
        "$standard",
        "mimetype",
    }
)
_MARKERS_SUPERDESK = frozenset(
    {
        "guid",
        "authors",
        "firstpublished",
        "priority",
        "service",
        "keywords",
        "extra",
        "extra_items",
        "readtime",
        "evolvedfrom",
        "annotations",
        "signal",
        "attachments",
    }
)


def detect(doc: dict[str, Any]) -> Dialect:
    """Which dialect a document is written in, from its own shape."""
    declared = _declared_major(doc)
    if "guid" in doc and "uri" not in doc:
        return "superdesk"
    if declared == "3" or _MARKERS_3 & doc.keys() or _nested_camel(doc):
        return "ninjs-3"
    if declared == "1" or _is_1x(doc):
        return "superdesk" if _MARKERS_SUPERDESK & doc.keys() else "ninjs-1"
    return "ninjs-2"


def _declared_major(doc: dict[str, Any]) -> str | None:
    standard = doc.get("standard", doc.get("$standard"))
    version = standard.get("version") if isinstance(standard, dict) else None
    return version.strip()[:1] if isinstance(version, str) and version.strip() else None


def _nested_camel(doc: dict[str, Any]) -> bool:
    for key in ("bodies", "headlines", "descriptions", "renditions"):
        items = doc.get(key)
        if isinstance(items, list) and any(
            isinstance(i, dict) and ("contentType" in i or "sizeInBytes" in i) for i in items[:20]
        ):
            return True
    return False


def _is_1x(doc: dict[str, Any]) -> bool:
    if _MARKERS_1 & doc.keys() or any(_PATTERN_1.match(k) for k in doc if isinstance(k, str)):
        return "headlines" not in doc and "bodies" not in doc
    return any(isinstance(doc.get(k), dict) for k in ("renditions", "associations", "altids"))


# --- reading into one shape ---------------------------------------------------------------


@dataclass
class Reading:
    """A document in 2.x spellings, its dialect, and where each value came from."""

    doc: dict[str, Any]
    dialect: Dialect
    origins: dict[Path, Path] = field(default_factory=dict)  # canonical path -> sent path

    def pointer(self, loc: Iterable[str | int]) -> str:
        """The JSON pointer, into the document as sent, of a path in `doc`."""
        path = tuple(loc)
        for cut in range(len(path), -1, -1):
            origin = self.origins.get(path[:cut])
            if origin is not None:
                return json_pointer(origin + path[cut:])
        return json_pointer(path)


def canonical(doc: dict[str, Any]) -> Reading:
    """The document in 2.x spellings (a new dict: `doc` is not changed)."""
    dialect = detect(doc)
    reading = Reading({}, dialect)
    reading.doc = _item(doc, (), (), reading.origins, camel=dialect == "ninjs-3")
    return reading


def _item(
    doc: dict[str, Any], here: Path, sent: Path, origins: dict[Path, Path], *, camel: bool
) -> dict[str, Any]:
    """One news item (the document, or an association) in 2.x spellings."""
    out: dict[str, Any] = {}
    pending: dict[str, list[tuple[Any, Path]]] = {}  # 2.x list -> (entry, sent path), in order

    def put(key: str, value: Any, from_key: str) -> None:
        out[key] = value
        origins[(*here, key)] = (*sent, from_key)

    for key, value in doc.items():
        if not isinstance(key, str):
            continue
        at = (*sent, key)
        if camel:
            name = _spelled_2(key)
            if name == "associations" and isinstance(value, list):
                put(
                    name,
                    [
                        _item(v, (*here, name, i), (*at, i), origins, camel=True)
                        if isinstance(v, dict)
                        else v
                        for i, v in enumerate(value)
                    ],
                    key,
                )
            else:
                put(name, _camel_tree(value, (*here, name), at, origins), key)
        elif key == "guid":
            if "uri" not in doc:
                put("uri", value, key)
            out["guid"] = value
        elif key == "byline" and "by" not in doc:
            put("by", value, key)
        elif key == "$standard" and "standard" not in doc:
            put("standard", value, key)
        elif key in _LISTS_1 and _LISTS_1[key] not in doc and isinstance(value, list):
            put(_LISTS_1[key], [_concept(v) for v in value], key)
        elif (match := _PATTERN_1.match(key)) and isinstance(value, str):
            kind, suffix = match.groups()
            pending.setdefault(_PLURAL[kind], []).append((_text_entry(kind, suffix, value), at))
        elif key == "headline" and isinstance(value, str):
            pending.setdefault("headlines", []).insert(0, ({"role": "main", "value": value}, at))
        elif key == "renditions" and isinstance(value, dict):
            put(
                "renditions",
                _keyed(
                    value,
                    (*here, "renditions"),
                    at,
                    origins,
                    lambda v, h, s: _rendition(v, h, s, origins),
                ),
                key,
            )
        elif key == "associations" and isinstance(value, dict):
            put(
                "associations",
                _keyed(
                    value,
                    (*here, "associations"),
                    at,
                    origins,
                    lambda v, h, s: _item(v, h, s, origins, camel=camel),
                ),
                key,
            )
        elif key == "associations" and isinstance(value, list):
            put(
                "associations",
                [
                    _item(v, (*here, "associations", i), (*at, i), origins, camel=camel)
                    if isinstance(v, dict)
                    else v
                    for i, v in enumerate(value)
                ],
                key,
            )
        elif key == "altids" and isinstance(value, dict):
            put("altids", [{"role": str(k), "value": v} for k, v in value.items()], key)
        else:
            out[key] = value
    for name, entries in pending.items():
        sent_before = out.get(name)
        existing: list[Any] = sent_before if isinstance(sent_before, list) else []
        start = len(existing)
        out[name] = [*existing, *(entry for entry, _ in entries)]
        for i, (_, at) in enumerate(entries, start):
            origins[(*here, name, i)] = at
            origins[(*here, name, i, "value")] = at
    return out


def _camel_tree(value: Any, here: Path, sent: Path, origins: dict[Path, Path]) -> Any:
    """A 3.x value with its camelCase keys in 2.x spelling, at every depth."""
    if isinstance(value, list):
        return [_camel_tree(v, (*here, i), (*sent, i), origins) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _spelled_2(key) if isinstance(key, str) else key
        if name != key:
            origins[(*here, name)] = (*sent, key)
        out[name] = _camel_tree(item, (*here, name), (*sent, key), origins)
    return out


def _spelled_2(key: str) -> str:
    """A 3.x property name as 2.x spells it (names 2.x does not have stay as they are)."""
    if key == key.lower():
        return key
    return _RENAMED_3.get(key) or (key.lower() if key.lower() in _KNOWN_2 else key)


def _keyed(
    value: dict[str, Any], here: Path, sent: Path, origins: dict[Path, Path], convert: Any
) -> list[Any]:
    """A 1.x object keyed by name as a 2.x list whose entries carry the `name`."""
    entries: list[Any] = []
    for key, item in value.items():
        if item is None:  # Superdesk sends removed associations as null
            continue
        i = len(entries)
        origins[(*here, i)] = (*sent, key)
        if isinstance(item, dict):
            entries.append({"name": key, **convert(item, (*here, i), (*sent, key))})
            origins[(*here, i, "name")] = (*sent, key)
        else:
            entries.append(item)
    return entries


def _rendition(
    value: dict[str, Any], here: Path, sent: Path, origins: dict[Path, Path]
) -> dict[str, Any]:
    out = dict(value)
    if "mimetype" in out and "contenttype" not in out:
        out["contenttype"] = out.pop("mimetype")
        origins[(*here, "contenttype")] = (*sent, "mimetype")
    return out


def _concept(value: Any) -> Any:
    """A 1.x / Superdesk subject, genre, place ({code, scheme, name}) in 2.x terms."""
    if not isinstance(value, dict) or "code" not in value:
        return value
    out = dict(value)
    code = out.get("code")
    if isinstance(code, str | int) and "literal" not in out:
        out["literal"] = str(code)
    scheme = out.get("scheme")
    if (
        "uri" not in out
        and isinstance(scheme, str)
        and isinstance(code, str | int)
        and scheme.startswith(("http://", "https://"))
    ):
        out["uri"] = scheme.rstrip("/") + "/" + str(code)
    return out


def _text_entry(kind: str, suffix: str, value: str) -> dict[str, Any]:
    """`body_xhtml` -> a bodies[] entry with role and content type said by the suffix."""
    parts = suffix.lower().split("_")
    contenttype = next((_SUFFIX_TYPES[p] for p in reversed(parts) if p in _SUFFIX_TYPES), None)
    roles = [p for p in parts if p not in _SUFFIX_TYPES]
    entry: dict[str, Any] = {"role": "_".join(roles) or parts[-1], "value": value}
    if kind == "headline":
        entry["role"] = "_".join(parts)
    elif contenttype:
        entry["contenttype"] = contenttype
    return entry
