"""Pure webhook rules: recipients, signing, verdicts, retry timing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from services.webhooks import domain
from services.webhooks.domain import Subscription
from shared import names
from tests.unit.webhooks.factories import T0

ALL = names.PUBLISHED_EVENT_TYPES


def sub(
    sid: str, types: tuple[str, ...] = ALL, subject_filter: str | None = None, active: bool = True
) -> Subscription:
    return Subscription(sid, "https://partner.example/hook", types, subject_filter, active)


def test_a_signature_verifies_with_the_standard_webhooks_reference_library() -> None:
    secret = domain.new_secret(b"\x01" * 32)
    body = '{"id":"e1","data":{"headline":"Ž"}}'
    timestamp = int(__import__("time").time())
    headers = domain.headers(secret, "msg_1", timestamp, body)
    assert Webhook(secret).verify(body, headers)["id"] == "e1"


def test_the_secret_has_the_standard_webhooks_form() -> None:
    secret = domain.new_secret(bytes(range(32)))
    assert secret.startswith("whsec_")
    assert domain.secret_key(secret) == bytes(range(32))


@pytest.mark.parametrize(
    "subject_filter, subject, expected",
    [
        (None, "urn:a", True),
        ("urn:a", "urn:a", True),
        ("urn:a", "urn:ab", False),
        ("urn:sport-*", "urn:sport-derby", True),
        ("urn:sport-*", "urn:politics-vote", False),
        ("urn:a", None, False),
    ],
)
def test_a_subject_filter_is_an_exact_uri_or_a_glob(
    subject_filter: str | None, subject: str | None, expected: bool
) -> None:
    assert domain.subject_matches(subject_filter, subject) is expected


def test_recipients_are_active_subscriptions_matching_type_and_subject() -> None:
    subs = [
        sub("all"),
        sub("updates", (names.ARTICLE_UPDATED,)),
        sub("off", active=False),
        sub("other", subject_filter="urn:other"),
    ]
    assert domain.recipients(subs, names.ARTICLE_PUBLISHED, "urn:a", set()) == ["all"]


def test_a_kill_also_goes_to_subscriptions_that_received_the_story() -> None:
    subs = [sub("cdn", (names.ARTICLE_PUBLISHED,), "urn:a"), sub("never", (names.ARTICLE_UPDATED,))]
    assert domain.recipients(subs, names.ARTICLE_KILLED, "urn:a", {"cdn"}) == ["cdn"]
    assert domain.recipients(subs, names.ARTICLE_UPDATED, "urn:a", {"cdn"}) == ["never"]


@pytest.mark.parametrize(
    "status, verdict",
    [
        (200, "delivered"),
        (204, "delivered"),
        (410, "disable"),
        (302, "retry"),
        (404, "retry"),
        (429, "retry"),
        (500, "retry"),
        (None, "retry"),
    ],
)
def test_the_verdict_of_an_answer(status: int | None, verdict: str) -> None:
    assert domain.verdict(status) == verdict


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert domain.retry_after_seconds("120", T0) == 120.0
    date = "Sun, 01 Mar 2026 12:05:00 GMT"
    assert domain.retry_after_seconds(date, T0) == 300.0
    assert domain.retry_after_seconds("Sun, 01 Mar 2026 11:00:00 GMT", T0) == 0.0
    assert domain.retry_after_seconds("soon", T0) is None
    assert domain.retry_after_seconds(None, T0) is None
    assert domain.retry_after_seconds("999999999", T0) == domain.MAX_RETRY_AFTER


def test_the_next_attempt_follows_the_schedule_shortened_by_jitter() -> None:
    schedule = (10.0, 100.0)
    at = domain.next_attempt_at(1, schedule, T0, jitter=0.2, rand=lambda: 0.0)
    assert at == T0 + timedelta(seconds=10)
    at = domain.next_attempt_at(2, schedule, T0, jitter=0.2, rand=lambda: 1.0)
    assert at == T0 + timedelta(seconds=80)
    assert domain.next_attempt_at(3, schedule, T0, jitter=0.2, rand=lambda: 0.5) is None


def test_retry_after_wins_when_it_asks_for_a_longer_wait() -> None:
    at = domain.next_attempt_at(1, (1.0,), T0, jitter=0, rand=lambda: 0, retry_after=30)
    assert at == T0 + timedelta(seconds=30)
    at = domain.next_attempt_at(1, (60.0,), T0, jitter=0, rand=lambda: 0, retry_after=5)
    assert at == T0 + timedelta(seconds=60)


def test_the_default_schedule_retries_for_up_to_three_days() -> None:
    from services.webhooks.settings import DEFAULT_RETRY_SCHEDULE

    total = sum(DEFAULT_RETRY_SCHEDULE)
    assert timedelta(days=2.5) < timedelta(seconds=total) <= timedelta(days=3)


def test_a_redirect_is_described_as_not_followed() -> None:
    assert domain.describe(302, None) == "HTTP 302: redirects are not followed"
    assert domain.describe(200, None) is None
    assert domain.describe(None, "timeout") == "timeout"
