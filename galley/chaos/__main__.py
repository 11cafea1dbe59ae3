"""`python -m galley.chaos --n 500`: run the suite, print the schedule and the four counts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from galley.chaos.suite import Options, Outcome, run


def parse(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="galley chaos", description=__doc__)
    p.add_argument("--n", type=int, default=500, help="stories in the workload")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--kills-each", type=int, default=3, help="SIGKILLs per service")
    p.add_argument("--port-closed", type=float, default=10.0, help="seconds Redis's port is shut")
    p.add_argument("--claim-idle-ms", type=int, default=5000)
    p.add_argument("--quiesce-timeout", type=float, default=600.0)
    p.add_argument("--workdir", type=Path, help="keep data and logs here (default: temp dir)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--appendfsync",
        choices=["always", "everysec", "off"],
        default="everysec",
        help="Redis durability; 'off' (no AOF) is expected to fail the check",
    )
    a = p.parse_args(argv)
    return Options(
        n=a.n,
        concurrency=a.concurrency,
        kills_each=a.kills_each,
        port_closed_s=a.port_closed,
        claim_idle_ms=a.claim_idle_ms,
        quiesce_timeout=a.quiesce_timeout,
        workdir=a.workdir,
        seed=a.seed,
        appendfsync=a.appendfsync,
    )


def render(out: Outcome, limit: int = 10) -> str:
    r = out.report
    lines = [
        "",
        "fault schedule:",
        *("  " + line for line in out.faults),
        "",
        f"ledger: {len(out.ledger.articles)} stories, {out.ledger.acknowledged} requests"
        f" acknowledged {dict(sorted(out.ledger.statuses.items()))},"
        f" {len(out.ledger.refused)} refused, {out.ledger.gave_up} gave up",
        f"published stream: {r.events} events; dead letters: {out.dead_letters or 0}",
        f"quiescent: {out.quiesced}; took {out.seconds:.0f}s",
        "",
    ]
    for kind, items in (
        ("lost", r.lost),
        ("duplicated", r.duplicated),
        ("out-of-order", r.out_of_order),
        ("unexpected", r.unexpected),
    ):
        lines += [f"  {kind}: {item}" for item in items[:limit]]
    lines += [f"refused: {item}" for item in out.ledger.refused[:limit]]
    c = r.counts
    lines.append(
        f"lost={c['lost']} duplicated={c['duplicated']}"
        f" out_of_order={c['out_of_order']} unexpected={c['unexpected']}"
    )
    return "\n".join(lines)


def passed(out: Outcome) -> bool:
    return out.report.ok and out.quiesced and not out.ledger.refused and not out.ledger.gave_up


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    out = asyncio.run(run(parse(argv)))
    print(render(out), flush=True)
    return 0 if passed(out) else 1


if __name__ == "__main__":
    sys.exit(main())
