"""The chaos suite, short version: 500 stories while services are SIGKILLed, Redis is
restarted from its AOF, its port is closed and it twice forgets its last 1.5 s of writes;
nothing lost, duplicated or reordered."""

from __future__ import annotations

import pytest

from galley.chaos.__main__ import passed, render
from galley.chaos.suite import Options, run

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]


async def test_five_hundred_stories_survive_the_fault_schedule_with_nothing_lost_or_doubled() -> (
    None
):
    out = await run(Options(n=500, kills_each=3, port_closed_s=10.0, quiesce_timeout=150.0))
    print(render(out))

    assert out.quiesced, "the pipeline never settled after the faults"
    assert out.report.counts == {"lost": 0, "duplicated": 0, "out_of_order": 0, "unexpected": 0}, (
        render(out)
    )
    assert len(out.ledger.articles) == 500
    assert any("SIGKILL redis-server" in line for line in out.faults)
    assert any("close Redis's port" in line for line in out.faults)
    assert sum("Redis will forget" in line for line in out.faults) == 2
    for service in ("ingest", "enrichment", "publish", "webhooks"):
        assert sum(f"SIGKILL {service} " in line for line in out.faults) == 3
    assert passed(out)


async def test_without_an_append_only_file_the_same_faults_lose_stories() -> None:
    """Redis restarted empty: the outboxes append again only what they sent within their
    repair window (here 0 s, so the run is longer than the window), the rest is lost."""
    out = await run(
        Options(
            n=300,
            concurrency=48,  # enough in flight that each wipe of Redis catches some
            kills_each=1,
            port_closed_s=3.0,
            quiesce_timeout=90.0,
            appendfsync="off",
            env={"GALLEY_OUTBOX_REPAIR_WINDOW_S": "0"},
        )
    )

    assert out.report.counts["lost"] > 0, render(out)
    assert not passed(out)
