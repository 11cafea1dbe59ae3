"""The guards before the door: nesting scan and the per-source token bucket."""

from __future__ import annotations

import pytest

from services.ingest.guards import RateLimiter, nesting_depth, parse_json
from services.ingest.problems import Problem
from services.ingest.settings import parse_api_keys


def test_nesting_depth_counts_brackets_outside_strings_only() -> None:
    assert nesting_depth(b'{"a": [1, {"b": "[[[{{{"}]}', 64) == 3
    assert nesting_depth(b'{"a": "\\"[[[["}', 64) == 1


def test_nesting_depth_stops_counting_just_past_the_limit() -> None:
    assert nesting_depth(b"[" * 100_000, 64) == 65


def test_parsing_refuses_deep_json_before_decoding_it() -> None:
    with pytest.raises(Problem) as caught:
        parse_json(b"[" * 1_000_000 + b"]" * 1_000_000, 64)
    assert caught.value.status == 400


def test_a_source_gets_its_burst_then_waits_for_tokens_while_others_go_on() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.wait_time("sd") == 0.0
        limiter.spend("sd")
    assert limiter.wait_time("sd") == pytest.approx(0.5)
    assert limiter.wait_time("arc") == 0.0
    now[0] = 0.5
    assert limiter.wait_time("sd") == 0.0


def test_asking_whether_a_source_may_send_takes_no_token() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=lambda: 0.0)
    assert [limiter.wait_time("sd") for _ in range(5)] == [0.0] * 5
    limiter.spend("sd")
    assert limiter.wait_time("sd") == pytest.approx(1.0)


def test_api_keys_are_read_as_source_key_pairs() -> None:
    assert parse_api_keys("superdesk:KEY1, arc:KEY2,") == {"KEY1": "superdesk", "KEY2": "arc"}
    with pytest.raises(ValueError, match="source:key"):
        parse_api_keys("superdesk")
