"""CPU per article in the bench's report (galley/bench/cpu.py)."""

from __future__ import annotations

import os

from galley.bench import cpu


def test_cpu_per_article_is_each_process_time_over_the_articles_with_a_services_sum() -> None:
    before = {"ingest": 1.0, "enrichment": 2.0, "redis": 0.5}
    after = {"ingest": 1.3, "enrichment": 2.6, "redis": 0.6}
    used = cpu.per_article_ms(before, after, 100)
    assert round(used["ingest"], 6) == 3.0 and round(used["enrichment"], 6) == 6.0
    assert round(used["redis"], 6) == 1.0
    assert round(used["services"], 6) == 9.0  # Redis is not a service


def test_a_running_process_has_used_some_cpu_and_a_gone_one_none() -> None:
    sum(i * i for i in range(200_000))  # spend a little
    assert cpu.cpu_seconds(os.getpid()) > 0
    assert cpu.cpu_seconds(2**22 + 12345) == 0.0  # no such process
