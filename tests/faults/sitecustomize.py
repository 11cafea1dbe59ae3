"""Test-only fault injection for services started as processes (not part of galley).

Python imports `sitecustomize` at start from the first folder on its path that has one;
the reliability tests put this folder on PYTHONPATH and name subjects in
GALLEY_TEST_FAIL_SUBJECTS (comma-separated). Every handler a service routes then raises
for those subjects, as a bug would, so the tests can show that an always-failing entry
is retried, dead-lettered with the reason, and published after `galley dlq retry` once
the fault is gone.
"""

from __future__ import annotations

import os
from typing import Any

SUBJECTS = frozenset(
    s.strip() for s in os.environ.get("GALLEY_TEST_FAIL_SUBJECTS", "").split(",") if s.strip()
)


class InjectedFailure(RuntimeError):
    """What a handler raises for a subject of GALLEY_TEST_FAIL_SUBJECTS."""


def _failing(handle: Any) -> Any:
    async def run(event: Any) -> None:
        if getattr(event, "subject", None) in SUBJECTS:
            raise InjectedFailure(f"injected failure for {event.subject} (test-only)")
        await handle(event)

    return run


def _install() -> None:
    from shared.infra import consumer

    routes_for = consumer.routes_for

    def failing_routes_for(group: str, stream: str, handlers: Any) -> Any:
        return routes_for(group, stream, {t: _failing(h) for t, h in handlers.items()})

    consumer.routes_for = failing_routes_for  # type: ignore[assignment]


if SUBJECTS:
    _install()
