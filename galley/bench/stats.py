"""Pure arithmetic of the benchmark: percentiles and matching sent to published."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks.

    Infinite values (articles never published within the bound) sort last, so a
    percentile that falls among them is infinite: a loss is never hidden.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high or ordered[low] == ordered[high]:
        return ordered[low]
    if math.isinf(ordered[high]):
        return math.inf
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


@dataclass
class Ledger:
    """Which uri was offered when, and when its `article.published` arrived."""

    sent: dict[str, float] = field(default_factory=dict)
    received: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    strangers: int = 0  # published entries for uris this ledger never sent

    def offer(self, uri: str, at: float) -> None:
        self.sent[uri] = at

    def publish(self, uri: str, at: float) -> None:
        if uri not in self.sent:
            self.strangers += 1
        elif uri in self.received:
            self.duplicates += 1
        else:
            self.received[uri] = at

    @property
    def done(self) -> bool:
        return len(self.received) >= len(self.sent)

    @property
    def missing(self) -> int:
        return len(self.sent) - len(self.received)

    def latencies(self) -> list[float]:
        """Seconds from offer to publication; infinite for those never published."""
        return [
            self.received[u] - t if u in self.received else math.inf for u, t in self.sent.items()
        ]

    def span(self) -> tuple[float, float]:
        """First offer to last publication (seconds on the ledger's clock)."""
        if not self.sent or not self.received:
            raise ValueError("nothing offered or nothing published yet")
        return min(self.sent.values()), max(self.received.values())

    def throughput(self) -> float:
        """Articles published per second over the whole run."""
        start, end = self.span()
        return len(self.received) / (end - start) if end > start else math.inf

    def steady_throughput(self, skip: float = 0.1) -> float:
        """Publications per second between the `skip` and `1 - skip` fractions of them,
        which leaves out start-up and the tail."""
        times = sorted(self.received.values())
        lo, hi = int(len(times) * skip), int(len(times) * (1 - skip)) - 1
        if hi <= lo or times[hi] <= times[lo]:
            return self.throughput()
        return (hi - lo) / (times[hi] - times[lo])


@dataclass(frozen=True)
class Summary:
    offered: int
    published: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def summarize(latencies_s: Iterable[float]) -> Summary:
    values = list(latencies_s)
    ms = [v * 1000 for v in values]
    finite = [v for v in ms if not math.isinf(v)]
    return Summary(
        offered=len(ms),
        published=len(finite),
        p50_ms=percentile(ms, 50),
        p95_ms=percentile(ms, 95),
        p99_ms=percentile(ms, 99),
        max_ms=max(ms),
    )


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan
