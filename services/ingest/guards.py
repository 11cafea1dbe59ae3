"""What stands before the door: API keys or Superdesk's body signature, per-source rate
limits, the body reader."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import Request

from services.ingest.problems import Problem
from shared.envelope import JsonRefused, read_json

INVALID_DOCUMENT = "invalid-document"

LOCAL_SOURCE = "local"
JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
SIGNATURE_HEADER = "x-superdesk-signature"  # sha1=<hex HMAC-SHA1 of the body>


# --- authentication -------------------------------------------------------------------


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Gatekeeper:
    """API keys per newsroom source, sent as a bearer token, or used as the secret of
    Superdesk's body signature; with no keys configured, loopback clients only."""

    keys: dict[str, str]  # key -> source

    def signed(self, request: Request) -> bool:
        """Whether the request authenticates by signing its body (read it first)."""
        return bool(self.keys) and SIGNATURE_HEADER in request.headers

    def source_for(self, request: Request, body: bytes | None = None) -> str:
        """The source posting; `body` is needed for a signed request."""
        if not self.keys:
            if _is_loopback(request.client.host if request.client else None):
                return LOCAL_SOURCE
            raise Problem(
                403,
                "loopback-only",
                "Forbidden",
                "no API keys are configured, so only loopback clients may post",
            )
        signature = request.headers.get(SIGNATURE_HEADER)
        if signature is not None:
            return self._by_signature(signature, body or b"")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            for key, source in self.keys.items():
                if hmac.compare_digest(key.encode(), token.encode()):
                    return source
        raise Problem(
            401,
            "unauthorized",
            "Unauthorized",
            "send a valid API key as 'Authorization: Bearer <key>', or sign the body"
            f" ('{SIGNATURE_HEADER}: sha1=<HMAC-SHA1 of the body with the key>')",
            headers={"WWW-Authenticate": 'Bearer realm="galley-ingest"'},
        )

    def _by_signature(self, signature: str, body: bytes) -> str:
        algorithm, _, digest = signature.strip().partition("=")
        if algorithm.lower() == "sha1" and digest:
            given = digest.strip().lower().encode()
            for key, source in self.keys.items():
                expected = hmac.new(key.encode(), body, hashlib.sha1).hexdigest().encode()
                if hmac.compare_digest(expected, given):
                    return source
        raise Problem(
            401,
            "bad-signature",
            "Unauthorized",
            f"the {SIGNATURE_HEADER} header does not match the body: it must be"
            " sha1=<hex HMAC-SHA1 of the exact body bytes, keyed with the source's"
            " key in INGEST_API_KEYS>",
        )


# --- rate limiting ------------------------------------------------------------------------


@dataclass
class RateLimiter:
    """A token bucket per source: `burst` at once, then `rate` per second."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def _refilled(self, source: str) -> tuple[float, float]:
        now = self.clock()
        tokens, last = self._buckets.get(source, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.rate), now

    def wait_time(self, source: str) -> float:
        """0.0 if the source may send now, else the seconds until it may (takes nothing)."""
        tokens, now = self._refilled(source)
        self._buckets[source] = (tokens, now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def spend(self, source: str) -> None:
        """Take a token whether or not one is there (the bucket does not go below 0)."""
        tokens, now = self._refilled(source)
        self._buckets[source] = (max(0.0, tokens - 1.0), now)

    def refund(self, source: str) -> None:
        """Give back a token taken for a request that was then refused."""
        tokens, now = self._refilled(source)
        self._buckets[source] = (min(float(self.burst), tokens + 1.0), now)

    def take(self, source: str, *, status: int = 429, what: str = "requests") -> None:
        """Take a token, or refuse when there is none. A sender that never retries a 4xx
        (Superdesk's HTTP Push) is told 503, which it retries."""
        wait = self.wait_time(source)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise Problem(
                status,
                "rate-limited",
                "Too many requests" if status == 429 else "Busy, retry later",
                f"{source!r} is over its rate of {what}; retry in {retry} s",
                headers={"Retry-After": str(retry)},
            )
        self.spend(source)


# --- the body ---------------------------------------------------------------------------------


def check_content_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not JSON_TYPE.match(media):
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"send application/json (got {media or 'no content type'!r})",
        )


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "payload-too-large",
        "Payload too large",
        f"the body is over the limit of {limit} bytes",
    )


async def read_limited(request: Request, limit: int) -> bytes:
    """Read the body, stopping as soon as it goes over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


# every byte but quotes and brackets, deleted; quotes and brackets as steps for the scan
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_STEPS = bytes(1 if b in b"[{" else 255 if b in b"]}" else 0 for b in range(256))  # int8 -1
_QUOTE = ord('"')
_OPEN = frozenset(b"[{")
_SMALL = 2048  # quotes and brackets counted in Python below this many, with numpy above


def nesting_depth(body: bytes, limit: int) -> int:
    """Deepest bracket nesting outside strings (at most `limit` + 1), in passes over the
    bytes that are each linear and cannot backtrack, whatever the body holds:

    1. escape pairs go: every `\\\\` first, then every `\\"`. An escape is two bytes, so
       a run of backslashes pairs off from its left, and no quote left is escaped;
    2. all but quotes and brackets go;
    3. a bracket after an even number of quotes is outside strings: +1 or -1, and the
       deepest running sum is the depth.
    """
    text = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = text.translate(None, _NOT_STRUCTURE)
    if len(marks) <= _SMALL:
        return _deepest(marks, limit)
    quotes = np.frombuffer(marks, dtype=np.uint8) == _QUOTE
    inside = np.cumsum(quotes, dtype=np.uint8) & 1  # wraps at 256, parity stays right
    steps = np.frombuffer(marks.translate(_STEPS), dtype=np.int8)[inside == 0]
    if steps.size == 0:
        return 0
    deepest = int(np.cumsum(steps, dtype=np.int32).max())
    return min(max(deepest, 0), limit + 1)


def _deepest(marks: bytes, limit: int) -> int:
    inside = False
    depth = deepest = 0
    for mark in marks:
        if mark == _QUOTE:
            inside = not inside
        elif not inside:
            depth += 1 if mark in _OPEN else -1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
    return deepest


def parse_json(body: bytes, max_depth: int) -> Any:
    """JSON from bytes, read as `shared.envelope.read_json` reads it: 400 when it is not
    UTF-8, not JSON, nested deeper than `max_depth` (checked before parsing), holds NaN,
    Infinity, a number out of range, an integer of more than 100 digits or a property twice
    in one object; 422 with a pointer when a string holds a lone surrogate."""
    if nesting_depth(body, max_depth) > max_depth:
        raise Problem(
            400,
            "nested-too-deeply",
            "JSON nested too deeply",
            f"the document nests deeper than {max_depth} levels",
        )
    try:
        return read_json(body, unique_keys=True)
    except JsonRefused as exc:
        if exc.pointer is not None:
            raise Problem(
                422,
                INVALID_DOCUMENT,
                "The document is not valid",
                f"{exc.pointer or '/'}: {exc}",
                errors=[{"pointer": exc.pointer, "detail": str(exc)}],
            ) from None
        if exc.kind == "depth":
            raise Problem(
                400, "nested-too-deeply", "JSON nested too deeply", "the document nests too deeply"
            ) from None
        raise Problem(400, "malformed-json", "Malformed JSON", str(exc)) from None
