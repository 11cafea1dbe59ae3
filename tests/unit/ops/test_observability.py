"""Trace context, JSON log lines and the latency observation, without any service."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.envelope import Envelope
from shared.infra import observability as obs

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_child_span_keeps_the_trace_id_and_flags_with_a_new_span_id() -> None:
    child = obs.child_of(PARENT)

    assert obs.valid_traceparent(child)
    assert obs.trace_id_of(child) == obs.trace_id_of(PARENT)
    assert child.split("-")[2] != PARENT.split("-")[2]
    assert child.endswith("-01")


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "garbage",
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    ],
)
def test_a_missing_or_malformed_parent_starts_a_new_trace(bad: str | None) -> None:
    assert not obs.valid_traceparent(bad)
    assert obs.valid_traceparent(obs.child_of(bad))


def test_an_envelope_built_inside_a_context_carries_its_traceparent() -> None:
    with obs.context(traceparent=PARENT):
        inside = Envelope[dict[str, Any]](source="/t", type="t", data={})
    outside = Envelope[dict[str, Any]](source="/t", type="t", data={})

    assert inside.traceparent == PARENT
    assert inside.to_fields()["traceparent"] == PARENT
    assert outside.traceparent is None


async def test_a_traced_handler_runs_as_a_child_of_the_event_and_logs_its_uri_and_id() -> None:
    seen: list[str | None] = []

    async def handler(event: Any) -> None:
        seen.append(obs.current_traceparent())

    event = Envelope[dict[str, Any]](
        source="/t", type="article.ingested", subject="urn:a", traceparent=PARENT, data={}
    )
    await obs.traced(handler)(event)

    assert obs.trace_id_of(seen[0]) == obs.trace_id_of(PARENT)
    assert obs.current_traceparent() is None  # reset afterwards


def test_json_log_lines_carry_uri_event_id_and_trace_id() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(obs.JsonFormatter("enrichment"))
    log = logging.getLogger("galley.test.json")
    log.addHandler(handler)
    log.propagate = False
    with obs.context(traceparent=PARENT, event_id="ev1", uri="urn:a"):
        log.warning("stale %s", "v1")

    record = json.loads(out.getvalue())
    assert record["message"] == "stale v1"
    assert record["service"] == "enrichment" and record["level"] == "warning"
    assert (record["uri"], record["event_id"]) == ("urn:a", "ev1")
    assert record["trace_id"] == obs.trace_id_of(PARENT)


def _fields(**data: Any) -> dict[str, str]:
    return {"type": "article.published", "data": json.dumps(data)}


def test_latency_is_observed_from_acceptance_for_a_first_publication_only() -> None:
    accepted = datetime(2026, 1, 1, tzinfo=UTC)
    later = accepted + timedelta(seconds=2)

    assert obs.observe_latency(_fields(accepted_at=accepted.isoformat()), later) == 2.0
    assert (
        obs.observe_latency(_fields(accepted_at=accepted.isoformat(), enrichment_revision=1), later)
        is None
    )
    assert (
        obs.observe_latency(
            _fields(accepted_at=accepted.isoformat(), embargoed=accepted.isoformat()), later
        )
        is None
    )
    assert obs.observe_latency(_fields(), later) is None
    assert obs.observe_latency({"data": "not json"}, later) is None
