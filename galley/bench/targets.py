"""The performance issue's targets, spelled once for the bench's report, budget and plots."""

from __future__ import annotations

RELAY_RATIO = 2.0  # steady end-to-end throughput >= this x the naive FastStream relay
CEILING_RATIO = 0.25  # ... and >= this x the transport ceiling at batch 100
P99_MS_AT_100 = 20.0  # p99 latency at 100 articles/s, ms
BACKFILL_ARTICLES = 100_000  # a backfill of this many archived articles ...
BACKFILL_SECONDS = 120.0  # ... through enrichment and publish within this many seconds
