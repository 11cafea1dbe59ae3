"""PNG plots for docs/PERFORMANCE.md, from a bench JSON file and `galley evaluate` output.

python -m galley.bench.plots BENCH_JSON EVALUATE_TXT OUT_DIR
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from galley.bench import targets

SCALE_ROW = re.compile(r"^\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


def latency_plot(bench: dict[str, Any], out: Path) -> None:
    loads = sorted(bench["latency"], key=int)
    xs = [int(x) for x in loads]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        ys = [bench["latency"][x][key] for x in loads]
        ax.plot(xs, [y if y is not None else float("nan") for y in ys], marker="o", label=label)
    for load in loads:
        figures = bench["latency"][load]
        if figures["p99_ms"] is None:  # some never published within the bound
            ax.annotate(
                f"{load}/s: overloaded,\n{figures['published']}/{figures['offered']}"
                " published\nwithin the bound",
                xy=(int(load), 0.5),
                xycoords=("data", "axes fraction"),
                ha="right",
                fontsize=8,
            )
    ax.axhline(
        targets.P99_MS_AT_100,
        color="grey",
        linestyle="--",
        linewidth=1,
        label=f"p99 goal at 100/s ({targets.P99_MS_AT_100:g} ms)",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("offered load (articles/s, open loop)")
    ax.set_ylabel("ingest → articles.published (ms)")
    ax.set_title("galley end-to-end latency vs offered load")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def parse_scale(text: str) -> list[tuple[int, float, float]]:
    """(archive size, p50 ms, p99 ms) rows of `galley evaluate`'s cost table."""
    rows = []
    for line in text.splitlines():
        m = SCALE_ROW.match(line)
        if m:
            rows.append((int(m.group(1).replace(",", "")), float(m.group(3)), float(m.group(4))))
    return rows


def related_cost_plot(rows: list[tuple[int, float, float]], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    sizes = [r[0] for r in rows]
    ax.plot(sizes, [r[1] for r in rows], marker="o", label="p50")
    ax.plot(sizes, [r[2] for r in rows], marker="o", label="p99")
    ax.set_xscale("log")
    ax.set_xlabel("archive size (articles)")
    ax.set_ylabel("one related-links query, k=5 (ms)")
    ax.set_title("related-link cost vs archive size")
    ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    bench_json, evaluate_txt, out_dir = (Path(a) for a in (argv or sys.argv[1:]))
    out_dir.mkdir(parents=True, exist_ok=True)
    latency_plot(json.loads(bench_json.read_text()), out_dir / "latency-vs-load.png")
    related_cost_plot(parse_scale(evaluate_txt.read_text()), out_dir / "related-cost.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
