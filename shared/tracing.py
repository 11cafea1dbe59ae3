"""W3C trace context (https://www.w3.org/TR/trace-context/) and the log fields of the work
in progress, in context variables.

An HTTP request sets the `traceparent` from its header (or starts a new trace), a stream
handler from the event it handles (as a child span), and every `Envelope` built meanwhile
takes it by default. Plain Python: the schema package imports it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar

TRACEPARENT_RE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

_traceparent: ContextVar[str | None] = ContextVar("galley_traceparent", default=None)
_event_id: ContextVar[str | None] = ContextVar("galley_event_id", default=None)
_uri: ContextVar[str | None] = ContextVar("galley_uri", default=None)


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def valid_traceparent(value: str | None) -> bool:
    match = TRACEPARENT_RE.match(value or "")
    return match is not None and set(match.group(1)) != {"0"} and set(match.group(2)) != {"0"}


def child_of(parent: str | None) -> str:
    """Same trace, new span id; a fresh trace when the parent is missing or malformed."""
    if parent is None or not valid_traceparent(parent):
        return new_traceparent()
    _, trace_id, _, flags = parent.split("-")
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def trace_id_of(traceparent: str | None) -> str | None:
    if traceparent is None or not valid_traceparent(traceparent):
        return None
    return traceparent.split("-")[1]


def current_traceparent() -> str | None:
    """The trace context of the work in progress (Envelope's default for `traceparent`)."""
    return _traceparent.get()


@contextlib.contextmanager
def context(
    *, traceparent: str | None = None, event_id: str | None = None, uri: str | None = None
) -> Iterator[None]:
    """Set trace context and log fields for the enclosed work."""
    tokens = [
        (_traceparent, _traceparent.set(traceparent)),
        (_event_id, _event_id.set(event_id)),
        (_uri, _uri.set(uri)),
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_event_id() -> str | None:
    """The id of the event being handled (a log field)."""
    return _event_id.get()


def current_uri() -> str | None:
    """The article the work in progress is about (a log field)."""
    return _uri.get()
