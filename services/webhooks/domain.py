"""Pure webhook rules: who gets an event, how it is signed, when to try again."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from fnmatch import fnmatchcase
from typing import Any, Literal

from shared import names

SECRET_PREFIX = "whsec_"
GLOB_CHARS = frozenset("*?[")
MAX_RETRY_AFTER = 86_400.0  # a receiver cannot park a delivery for longer than a day


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    event_types: tuple[str, ...]
    subject_filter: str | None
    active: bool = True


def new_secret(random_bytes: bytes) -> str:
    """A signing secret in the Standard Webhooks form `whsec_<base64>`."""
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode("ascii")


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` value: v1 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""
    message = f"{webhook_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, webhook_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    }


def event_body(event: dict[str, Any]) -> str:
    """The delivered body: the CloudEvent in JSON structured mode (attributes + data)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def subject_matches(subject_filter: str | None, subject: str | None) -> bool:
    """No filter matches all; a filter with * ? [ is a glob; otherwise an exact uri."""
    if subject_filter is None:
        return True
    if subject is None:
        return False
    if GLOB_CHARS & set(subject_filter):
        return fnmatchcase(subject, subject_filter)
    return subject == subject_filter


def matches(sub: Subscription, event_type: str, subject: str | None) -> bool:
    return event_type in sub.event_types and subject_matches(sub.subject_filter, subject)


def recipients(
    subs: Iterable[Subscription],
    event_type: str,
    subject: str | None,
    received: Collection[str],
) -> list[str]:
    """Active subscriptions that get this event; a kill also goes to all that got the story."""
    out = []
    for sub in subs:
        if not sub.active:
            continue
        fan_out = event_type == names.ARTICLE_KILLED and sub.id in received
        if fan_out or matches(sub, event_type, subject):
            out.append(sub.id)
    return out


# --- outcomes of one attempt -------------------------------------------------

Verdict = Literal["delivered", "retry", "disable"]


def verdict(status: int | None) -> Verdict:
    """2xx delivered; 410 disables the endpoint; anything else (3xx too) is retried."""
    if status is not None and 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "disable"
    return "retry"


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)


def next_attempt_at(
    tries_in_round: int,
    schedule: Sequence[float],
    now: datetime,
    *,
    jitter: float,
    rand: Callable[[], float],
    retry_after: float | None = None,
) -> datetime | None:
    """When to try again after `tries_in_round` failed attempts; None when exhausted.

    The wait is the schedule's entry drawn down by up to `jitter` (so the
    schedule is an upper bound); a `Retry-After` from a 429 is honoured when longer.
    """
    if tries_in_round > len(schedule):
        return None
    delay = schedule[tries_in_round - 1] * (1 - jitter * rand())
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)


def describe(status: int | None, error: str | None) -> str | None:
    """A short reason for the delivery log when an attempt did not succeed."""
    if error:
        return error
    if status is None or 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirects are not followed"
    return f"HTTP {status}"
