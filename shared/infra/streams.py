"""Redis stream replies as plain text, whichever way the client decodes.

A client made with `decode_responses=True` answers `str`, one without answers `bytes`,
and redis-py types both loosely. These turn either into `str` entries, so code that
reads streams says what it gets: `(entry id, {field: value})`.
"""

from __future__ import annotations

from typing import Any

Fields = dict[str, str]
Entry = tuple[str, Fields]


def text(value: Any) -> str:
    """A reply value as text (bytes decoded as UTF-8; None as "")."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode()
    return str(value)


def fields_of(raw: Any) -> Fields:
    """An entry's fields as text."""
    return {text(k): text(v) for k, v in (raw or {}).items()}


def entries(reply: Any) -> list[Entry]:
    """The entries of an XRANGE / XREVRANGE / XAUTOCLAIM list, as text."""
    return [(text(entry_id), fields_of(raw)) for entry_id, raw in reply or ()]


def stream_entries(reply: Any) -> list[tuple[str, list[Entry]]]:
    """An XREAD / XREADGROUP reply as (stream, entries), as text."""
    if isinstance(reply, dict):  # RESP3
        return [(text(stream), entries(found)) for stream, found in reply.items()]
    return [(text(stream), entries(found)) for stream, found in reply or ()]
