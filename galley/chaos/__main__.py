"""`python -m galley.chaos --n 500`: run the suite, print the schedule and the four counts."""

from __future__ import annotations

import asyncio
import logging
import sys

from galley.chaos.suite import Options, Outcome, run


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


def execute(opts: Options) -> int:
    """Run the suite (a spinner on stderr, on a terminal), print the outcome; 0 when it
    passed, 1 when it did not, 3 when the pipeline could not be started."""
    from galley.cli import UNREACHABLE, progress

    logging.basicConfig(level=logging.WARNING)
    try:
        with progress() as bar:
            bar.add_task(f"chaos: {opts.n} stories under faults", total=None)
            out = asyncio.run(run(opts))
    except RuntimeError as exc:  # a service or Redis did not start
        print(f"galley chaos: the pipeline did not start: {exc}", file=sys.stderr, flush=True)
        return UNREACHABLE
    print(render(out), flush=True)
    return 0 if passed(out) else 1


def main(argv: list[str] | None = None) -> int:
    """`python -m galley.chaos ...` is `galley chaos ...` (see its --help)."""
    from galley.cli import main as galley

    return galley(["chaos", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
