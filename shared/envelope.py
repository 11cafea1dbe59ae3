"""The event envelope: CloudEvents 1.0 attributes plus `data`.

On a Redis stream every attribute is one entry field and `data` is the JSON
payload, so any Redis client can read an entry without FastStream:

    XADD articles.published * specversion 1.0 id ... type article.published data {...}
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.tracing import current_traceparent

P = TypeVar("P")

SPECVERSION = "1.0"
JSON = "application/json"
ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "datacontenttype")


class EnvelopeError(ValueError):
    """A stream entry that is not a readable event (the reason is the message).

    `kind` says which: "undecodable" (not UTF-8, not JSON, JSON galley will not read, no
    type), "unsupported" (a CloudEvents specversion other than 1.0)."""

    def __init__(self, message: str, kind: str = "undecodable") -> None:
        super().__init__(message)
        self.kind = kind


# --- reading JSON that came from outside --------------------------------------------------

MAX_INT_DIGITS = 100  # an integer literal longer than this is refused (Python's own cap: 4,300)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonRefused(ValueError):
    """JSON text galley will not read; the message says why, `pointer` (RFC 6901) where,
    when it is known. `kind`: "syntax" (not JSON, or not UTF-8), "depth" (nested too
    deeply) or "content" (JSON that cannot be carried on)."""

    def __init__(self, message: str, pointer: str | None = None, kind: str = "content") -> None:
        super().__init__(message)
        self.pointer = pointer
        self.kind = kind


def _refuse_constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise JsonRefused(f"the number {literal[:40]} is out of range")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonRefused(
            f"an integer of {len(literal.lstrip('-'))} digits is over the limit of"
            f" {MAX_INT_DIGITS} digits"
        )
    return int(literal)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonRefused(f"a duplicate property {_shown(key)} in one object")
            seen.add(key)
    return found


def _shown(text: str, limit: int = 60) -> str:
    """A string as a message may quote it: cut, with lone surrogates made visible."""
    cut = text if len(text) <= limit else text[:limit] + "..."
    return repr(cut.encode("utf-8", "backslashreplace").decode("utf-8"))


Path = tuple[Any, str | int] | None  # (parent path, key): O(1) per value, however deep


def json_pointer(loc: Iterable[str | int]) -> str:
    """RFC 6901 pointer for a path of keys (a pydantic error location, say)."""
    return "".join("/" + str(k).replace("~", "~0").replace("/", "~1") for k in loc)


def _pointer(path: Path) -> str:
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    return json_pointer(reversed(keys))


def lone_surrogate_at(value: Any) -> str | None:
    """The JSON pointer of the first string (or, for a property name, of its object) that
    holds a lone surrogate, which no UTF-8 text, SQLite or XML can carry; None if none.
    Linear in the value, however deep it nests."""
    if isinstance(value, str):
        return "" if _SURROGATE.search(value) else None
    stack: list[tuple[Any, Path]] = [(value, None)]
    while stack:
        item, path = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            if isinstance(key, str) and _SURROGATE.search(key):
                return _pointer(path)
            if isinstance(child, str):
                if _SURROGATE.search(child):
                    return _pointer((path, key))
            elif isinstance(child, dict | list):
                stack.append((child, (path, key)))
    return None


_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_finite, parse_int=_bounded_int
)
_UNIQUE = json.JSONDecoder(
    parse_constant=_refuse_constant,
    parse_float=_finite,
    parse_int=_bounded_int,
    object_pairs_hook=_unique_keys,
)


def read_json(text: str | bytes, *, unique_keys: bool = False) -> Any:
    """Parse JSON from outside galley, refusing (JsonRefused) what is not JSON or cannot be
    carried on: bytes that are not UTF-8, NaN and Infinity, numbers out of a double's range,
    integers over MAX_INT_DIGITS digits, lone surrogates (\\ud800) in any string or property
    name, and, with `unique_keys`, a property name twice in one object. Linear in the text
    (CPython's decoder; the depth is the caller's to bound first)."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRefused(f"not UTF-8: {_byte_error(exc)}", kind="syntax") from None
    try:
        value = (_UNIQUE if unique_keys else _DECODER).decode(text)
    except JsonRefused:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRefused(
            f"{exc.msg} at line {exc.lineno}, column {exc.colno}", kind="syntax"
        ) from None
    except RecursionError:
        raise JsonRefused("nested too deeply", kind="depth") from None
    except ValueError as exc:  # e.g. a number Python will not convert
        raise JsonRefused(str(exc)[:200]) from None
    if _may_hold_surrogate(text):
        where = lone_surrogate_at(value)
        if where is not None:
            raise JsonRefused(f"a lone surrogate at {where or '/'} is not Unicode text", where)
    return value


def _may_hold_surrogate(text: str) -> bool:
    """Whether JSON text may decode to a lone surrogate: it has a \\uD800-\\uDFFF escape,
    or a raw one (a str that did not come from UTF-8). Cheap: a substring test and, for
    text that is not ASCII, an encoding."""
    if "\\u" in text and _ESCAPED_SURROGATE.search(text):
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _byte_error(exc: UnicodeDecodeError) -> str:
    bad = exc.object[exc.start : exc.start + 4]
    return f"byte {bad[:1].hex()} at position {exc.start} ({exc.reason})"


class Envelope(BaseModel, Generic[P]):
    """One event. `id` together with `source` is the deduplication key."""

    model_config = ConfigDict(frozen=True)

    specversion: str = SPECVERSION
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    source: str
    type: str
    subject: str | None = None
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = JSON
    # CloudEvents distributed-tracing extension; defaults to the trace of the work in progress
    traceparent: str | None = Field(default_factory=current_traceparent)
    data: P

    def to_fields(self) -> dict[str, str]:
        """Flatten to Redis stream entry fields (all strings)."""
        fields: dict[str, str] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat(),
            "datacontenttype": self.datacontenttype,
        }
        if self.subject is not None:
            fields["subject"] = self.subject
        if self.traceparent is not None:
            fields["traceparent"] = self.traceparent
        data = self.data
        if isinstance(data, BaseModel):  # pydantic's own encoder: same JSON, ~3x faster
            fields["data"] = data.model_dump_json()
        else:
            fields["data"] = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return fields


def fields_from_entry(raw: Mapping[Any, Any]) -> dict[str, str]:
    """Decode a raw entry (bytes or str keys and values) to a str dict; EnvelopeError naming
    every field that is not UTF-8."""
    try:
        return {_text(k): _text(v) for k, v in raw.items()}
    except UnicodeDecodeError:
        pass
    fields: dict[str, str] = {}
    broken: list[str] = []
    for key, value in raw.items():
        name = _decoded(key, broken, what="field name")
        fields[name] = _decoded(value, broken, what=f"field {name!r}")
    if broken:
        raise EnvelopeError("not UTF-8: " + "; ".join(broken))
    return fields


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _decoded(value: Any, broken: list[str], *, what: str) -> str:
    if not isinstance(value, bytes | bytearray):
        return str(value)
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        broken.append(f"{what} ({_byte_error(exc)})")
        return bytes(value).decode("utf-8", "backslashreplace")


def readable_fields(raw: Mapping[Any, Any]) -> dict[str, str]:
    """The entry's fields as text even when they are not UTF-8 (bad bytes as \\xNN), for
    a dead letter an operator reads; the exact bytes are kept beside it."""
    return {_decoded(k, [], what=""): _decoded(v, [], what="") for k, v in raw.items()}


def typed(env: Envelope[Any], model: type[BaseModel]) -> Envelope[Any]:
    """The envelope with its `data` validated as `model` (raises pydantic's ValidationError)."""
    return Envelope[model].model_validate(  # type: ignore[valid-type]
        {**env.model_dump(exclude={"data"}), "data": env.data}
    )


def from_fields(raw: Mapping[Any, Any], *, unique_keys: bool = False) -> Envelope[dict[str, Any]]:
    """Parse stream entry fields into an envelope whose data is a plain dict.

    Raises EnvelopeError with a readable reason for anything malformed: fields that are not
    UTF-8, `data` that is not a JSON object galley reads (see `read_json`; `unique_keys`
    refuses a property twice in one object), no `type`, a lone surrogate in an attribute,
    and (kind "unsupported") a `specversion` other than CloudEvents 1.0. An entry without
    `specversion` is read as 1.0 (newsroom systems may leave it out).
    """
    fields = fields_from_entry(raw)
    version = fields.get("specversion")
    if version is not None and version != SPECVERSION:
        raise EnvelopeError(
            f"specversion {_shown(version)}: galley reads CloudEvents 1.0", "unsupported"
        )
    if "data" not in fields:
        raise EnvelopeError("entry has no 'data' field")
    try:
        data = read_json(fields["data"], unique_keys=unique_keys)
    except JsonRefused as exc:
        if exc.kind == "depth":
            raise EnvelopeError("'data' is nested too deeply") from exc
        said = "is not JSON" if exc.kind == "syntax" else "holds JSON galley will not read"
        raise EnvelopeError(f"'data' {said}: {exc}") from exc
    if not isinstance(data, dict):
        raise EnvelopeError("'data' must be a JSON object")
    attrs = {k: fields[k] for k in (*ATTRIBUTES, "traceparent") if k in fields}
    if "type" not in attrs:
        raise EnvelopeError("entry has no 'type' field")
    for name, value in attrs.items():
        if _SURROGATE.search(value):
            raise EnvelopeError(f"the {name!r} field holds a lone surrogate")
    attrs.setdefault("source", "unknown")
    try:
        return Envelope[dict[str, Any]].model_validate({**attrs, "data": data})
    except ValidationError as exc:
        raise EnvelopeError(f"bad envelope attribute: {exc.errors()[0]['msg']}") from exc
