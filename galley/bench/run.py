"""The benchmark run: services up on a private Redis, archive preloaded, then each figure."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import redis.asyncio as aioredis

from galley.bench import cpu, hops, targets
from galley.bench.corpus import Newsroom, ingested_fields, submitted_fields
from galley.bench.pipeline import Watcher, offer_burst, offer_paced
from galley.bench.stats import Summary, ratio, summarize
from galley.redis_server import free_port
from galley.supervisor import Pipeline
from shared import names

SERVICES = ("ingest", "enrichment", "publish")


@dataclass
class Results:
    machine: dict[str, str] = field(default_factory=dict)
    preload: dict[str, float] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)
    latency: dict[int, Summary] = field(default_factory=dict)
    hops: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)
    transport: dict[str, float] = field(default_factory=dict)
    backfill: dict[str, float] = field(default_factory=dict)
    budget: str = ""
    # AOF rewrites Redis ran during each timed phase ("burst", "10", "100", ..., "backfill")
    aof_rewrites: dict[str, int] = field(default_factory=dict)
    # ms of CPU per article of each process in each phase ("burst", "100", ...)
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _subprocess_rate(cmd: list[str], key: str, log: Path, timeout: float = 300) -> float:
    with open(log, "ab") as out:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=out, timeout=timeout, check=False)
    found = re.search(rf"{key}=([0-9.]+)", done.stdout.decode())
    return float(found.group(1)) if found else math.nan


def transport(url: str, args: argparse.Namespace, logs: Path) -> dict[str, float]:
    """Ceiling (batch 100 and 1) and the naive FastStream relay, on the same Redis."""
    if args.ceiling_script:
        base = [sys.executable, str(args.ceiling_script), url]
    else:
        base = [sys.executable, "-m", "galley.bench.ceiling", url]
    key = "ceiling_articles_per_s"
    out = {
        "ceiling_batch100": _subprocess_rate(
            [*base, str(args.ceiling_n), "100"], key, logs / "ceiling.log"
        ),
        "ceiling_batch1": _subprocess_rate(
            [*base, str(args.ceiling_n // 4), "1"], key, logs / "ceiling.log"
        ),
        "naive_relay": _subprocess_rate(
            [sys.executable, "-m", "galley.bench.relay", url, str(args.relay_n)],
            "relay_articles_per_s",
            logs / "relay.log",
        ),
    }
    return out


def budget(args: argparse.Namespace, transport: dict[str, float], logs: Path) -> str:
    """The work-only lower bound (galley.bench.budget) against this run's transport figures,
    in a process of its own while the services are idle."""
    cmd = [
        sys.executable,
        "-m",
        "galley.bench.budget",
        "--archive",
        str(args.archive),
        "--count",
        str(100 if args.quick else 500),
    ]
    for flag, key in (("--relay", "naive_relay"), ("--ceiling", "ceiling_batch100")):
        if math.isfinite(transport.get(key, math.nan)):
            cmd += [flag, f"{transport[key]:.1f}"]
    with open(logs / "budget.log", "ab") as out:
        try:
            done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=out, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            return "(the work-only budget did not finish in 900 s; the other figures stand)"
    return done.stdout.decode().rstrip() or f"(budget failed; see {logs / 'budget.log'})"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


AOF_REWRITE_STARTED = "Background append only file rewriting started"


def aof_rewrites(log: Path | None) -> int:
    """How many AOF rewrites the bench's Redis has started, from its log (-1: unknown, e.g.
    Redis 6.2's INFO has no counter and an outside server's log is not ours to read)."""
    if log is None or not log.exists():
        return -1
    return log.read_text(errors="replace").count(AOF_REWRITE_STARTED)


def rewrites_since(before: int, log: Path | None) -> int:
    """AOF rewrites started since the count `before` (-1 when either count is unknown)."""
    after = aof_rewrites(log)
    return -1 if before < 0 or after < 0 else after - before


async def compact_aof(redis: aioredis.Redis, timeout: float = 180.0) -> None:
    """Rewrite Redis's append-only file now and wait until it is done.

    Redis rewrites its AOF by itself each time the file doubles: a fork and a busy core for
    seconds at the bench's sizes. The bench's own bulk loads (preload, burst) double the file
    often, so a rewrite could land inside a 20 s window and measure Redis's maintenance
    instead of the pipeline. Starting each timed phase on a freshly rewritten file keeps that
    out; a rewrite that still happens during a phase is counted and reported."""
    info = await redis.info("persistence")
    if not info.get("aof_enabled"):
        return
    if not info.get("aof_rewrite_in_progress"):
        await redis.bgrewriteaof()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        info = await redis.info("persistence")
        if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
            return
    say("(Redis's AOF rewrite did not finish in time; the next phase may overlap one)")


@asynccontextmanager
async def showing(watcher: Watcher, label: str, total: int) -> AsyncIterator[None]:
    """A progress bar on stderr (a terminal only) of the phase's articles published."""
    from galley.cli import progress

    with progress() as bar:
        task = bar.add_task(label, total=total)

        async def follow() -> None:
            while True:
                bar.update(task, completed=len(watcher.ledger.received))
                await asyncio.sleep(0.25)

        poller = None if bar.disable else asyncio.create_task(follow())
        try:
            yield
        finally:
            if poller is not None:
                poller.cancel()


@asynccontextmanager
async def timed_phase(
    redis: aioredis.Redis, redis_log: Path | None, rewrites: dict[str, int], name: str
) -> AsyncIterator[None]:
    """A timed phase: it starts on a freshly rewritten AOF (`compact_aof`), and the AOF
    rewrites Redis starts during it are recorded under `name`."""
    await compact_aof(redis)
    before = aof_rewrites(redis_log)
    yield
    rewrites[name] = rewrites_since(before, redis_log)


async def measure(
    url: str,
    args: argparse.Namespace,
    results: Results,
    redis_log: Path | None = None,
    pids: dict[str, int] | None = None,
) -> None:
    pids = pids or {}
    redis = aioredis.from_url(url)
    room = Newsroom(seed=args.seed)
    watcher = Watcher(redis)
    await watcher.start()
    try:
        # 1. the archive, straight onto articles.ingested (enrichment + publish only)
        say(f"preloading {args.archive} archived articles ...")
        async with showing(watcher, "preload", args.archive):
            await offer_burst(
                redis,
                watcher.ledger,
                names.ARTICLES_INGESTED,
                (
                    (f"urn:galley:archive:{i}", ingested_fields(room, i, "archive"))
                    for i in range(args.archive)
                ),
            )
            await watcher.drain(args.archive / 10 + 120)
        results.preload = _burst_figures(watcher)
        say(f"  {results.preload}")

        # 2. highest sustained throughput: a burst at ingest's input stream
        say(f"throughput: burst of {args.burst} submissions ...")
        watcher.ledger = type(watcher.ledger)()
        entries = [
            (f"urn:galley:burst:{i}", submitted_fields(room, i, "burst")) for i in range(args.burst)
        ]
        async with (
            showing(watcher, "burst", args.burst),
            timed_phase(redis, redis_log, results.aof_rewrites, "burst"),
        ):
            before = cpu.snapshot(pids)
            await offer_burst(redis, watcher.ledger, names.NEWSROOM_SUBMISSIONS, entries)
            await watcher.drain(args.burst / 20 + 60)
            results.cpu["burst"] = cpu.per_article_ms(before, cpu.snapshot(pids), args.burst)
        results.throughput = _burst_figures(watcher)
        say(f"  {results.throughput}")

        # 3. latency at fixed offered loads, open loop
        for rate in args.rates:
            prefix = f"load{rate}"
            total = int(rate * args.duration)
            say(f"latency at {rate}/s for {args.duration}s ({total} articles) ...")
            made = [
                (f"urn:galley:{prefix}:{i}", submitted_fields(room, i, prefix))
                for i in range(total)
            ]
            watcher.ledger = type(watcher.ledger)()
            async with (
                showing(watcher, f"{rate}/s", total),
                timed_phase(redis, redis_log, results.aof_rewrites, str(rate)),
            ):
                seconds, _micros = await redis.time()
                before = cpu.snapshot(pids)
                await offer_paced(
                    redis,
                    watcher.ledger,
                    names.NEWSROOM_SUBMISSIONS,
                    rate,
                    args.duration,
                    made.__getitem__,
                )
                await watcher.drain(args.drain)
                results.cpu[str(rate)] = cpu.per_article_ms(before, cpu.snapshot(pids), total)
            results.latency[rate] = summarize(watcher.ledger.latencies())
            say(f"  {results.latency[rate]}")
            offered = set(watcher.ledger.sent)
            stamps = await hops.collect(redis, offered, int(seconds) * 1000 - 1000)
            results.hops[rate] = hops.hop_table(stamps, offered)
            await _settle(watcher, args.settle)

        # 4. backfill: archived articles straight onto articles.ingested
        if args.backfill:
            say(f"backfill of {args.backfill} archived articles (bound {args.backfill_timeout}s)")
            watcher.ledger = type(watcher.ledger)()
            async with (
                showing(watcher, "backfill", args.backfill),
                timed_phase(redis, redis_log, results.aof_rewrites, "backfill"),
            ):
                await offer_burst(
                    redis,
                    watcher.ledger,
                    names.ARTICLES_INGESTED,
                    (
                        (f"urn:galley:backfill:{i}", ingested_fields(room, i, "backfill"))
                        for i in range(args.archive, args.archive + args.backfill)
                    ),
                )
                offered_at = time.perf_counter()
                finished = await watcher.drain(args.backfill_timeout)
            results.backfill = _burst_figures(watcher)
            results.backfill["finished"] = float(finished)
            results.backfill["offer_s"] = offered_at - min(watcher.ledger.sent.values())
            say(f"  {results.backfill}")
    finally:
        await watcher.stop()
        closing = asyncio.ensure_future(redis.aclose())
        if not (await asyncio.wait({closing}, timeout=5))[0]:
            say("(closing the bench's Redis connection timed out; figures are complete)")


async def _settle(watcher: Watcher, timeout: float) -> None:
    """Let a backlog left by an overloaded phase clear before the next one starts."""
    await watcher.drain(timeout)


def _burst_figures(watcher: Watcher) -> dict[str, float]:
    ledger = watcher.ledger
    if not ledger.received:
        return {"offered": len(ledger.sent), "published": 0}
    start, end = ledger.span()
    return {
        "offered": len(ledger.sent),
        "published": len(ledger.received),
        "seconds": end - start,
        "per_s": ledger.throughput(),
        "steady_per_s": ledger.steady_throughput(),
        "strangers": ledger.strangers,
        "duplicates": ledger.duplicates,
    }


def run(args: argparse.Namespace) -> Results:
    results = Results(machine=machine())
    with tempfile.TemporaryDirectory(prefix="galley-bench-") as tmp:
        data = Path(args.keep or tmp)
        logs = data / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for name in SERVICES}
        pipeline = Pipeline(data, redis_url=None, redis_port=free_port(), services=ports)
        say(f"starting redis + {', '.join(SERVICES)} in {data}")
        pipeline.start()
        try:
            if not pipeline.wait_healthy(timeout=60):
                raise SystemExit(f"services did not become healthy; logs in {logs}")
            assert pipeline.redis is not None
            url = pipeline.redis.url
            say(f"redis at {url}")
            if not args.skip_transport:
                say("transport ceiling and naive relay ...")
                results.transport = transport(url, args, logs)
                say(f"  {results.transport}")
            if not args.skip_budget:
                say("work-only budget (no I/O) ...")
                results.budget = budget(args, results.transport, logs)
            pids = {p.name: p.proc.pid for p in pipeline.procs if p.proc is not None}
            if pipeline.redis.proc is not None:
                pids["redis"] = pipeline.redis.proc.pid
            redis_log = pipeline.redis.data_dir / "redis.log"
            asyncio.run(measure(url, args, results, redis_log, pids))
        finally:
            pipeline.stop()
    return results


def report(results: Results, args: argparse.Namespace) -> str:
    m = results.machine
    lines = [
        f"galley bench — {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}",
        "input: newsroom.submissions (XADD article.submitted); output: articles.published"
        " (XREAD, receive time)",
        "",
    ]

    def row(label: str, value: str) -> None:
        lines.append(f"  {label:<46} {value}")

    def rate(figures: dict[str, float]) -> str:
        if not figures.get("published"):
            return "nothing published"
        return (
            f"{figures['per_s']:8.1f}/s  (steady {figures['steady_per_s']:.1f}/s,"
            f" {int(figures['published'])}/{int(figures['offered'])} in"
            f" {figures['seconds']:.1f} s)"
        )

    lines.append("throughput")
    row(f"archive preload ({args.archive}, enrichment+publish)", rate(results.preload))
    row(f"end to end, burst of {args.burst} at ingest", rate(results.throughput))
    if results.transport:
        t = results.transport
        row("transport ceiling, batch 100", f"{t['ceiling_batch100']:8.1f}/s")
        row("transport ceiling, batch 1", f"{t['ceiling_batch1']:8.1f}/s")
        row("naive FastStream relay (3 hops, no work)", f"{t['naive_relay']:8.1f}/s")
        galley = results.throughput.get("steady_per_s", math.nan)
        lines.append("ratios (steady end-to-end throughput)")
        row(
            "galley / naive relay",
            f"{ratio(galley, t['naive_relay']):8.2f}x  (target >= {targets.RELAY_RATIO:g})",
        )
        row(
            "galley / batched ceiling",
            f"{ratio(galley, t['ceiling_batch100']):8.2f}x  (target >= {targets.CEILING_RATIO:g})",
        )
    lines.append("")
    lines.append(
        f"latency, open loop, {args.duration:g} s per load (ms; inf = not published"
        f" within {args.drain:g} s after the load ended)"
    )
    lines.append(
        f"  {'offered/s':>10} {'published':>12} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}"
    )
    for load, s in results.latency.items():
        lines.append(
            f"  {load:>10} {s.published:>6}/{s.offered:<5} {s.p50_ms:9.1f}"
            f" {s.p95_ms:9.1f} {s.p99_ms:9.1f} {s.max_ms:9.1f}"
        )
    if results.hops:
        lines.append("")
        lines.append(
            "where the latency goes: ms between an article's entries on consecutive"
            " streams (Redis entry ids)"
        )
        lines.append(f"  {'offered/s':>10} {'hop':<11} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
        for load, table in results.hops.items():
            for label, h in table.items():
                lines.append(
                    f"  {load:>10} {label:<11} {h['p50']:7.1f} {h['p95']:7.1f}"
                    f" {h['p99']:7.1f} {h['max']:7.1f}"
                )
    if results.backfill:
        b = results.backfill
        goal = f"  (target <= {targets.BACKFILL_SECONDS:g} s)"
        lines.append("")
        lines.append(
            "backfill (article.ingested written straight to articles.ingested;"
            " time to the last article.published)"
        )
        row(f"{args.backfill} archived articles", rate(b))
        if b.get("published"):
            if b.get("finished"):
                row("time for all", f"{b['seconds']:8.1f} s{goal}")
            else:
                row(
                    "time for all",
                    f"unfinished within {args.backfill_timeout:g} s; at"
                    f" {b['per_s']:.0f}/s all would take {args.backfill / b['per_s']:.0f} s" + goal,
                )
    if results.aof_rewrites:
        lines.append("")
        lines.append(
            "Redis AOF rewrites during each phase (every phase starts on a freshly"
            " rewritten file): "
            + ", ".join(
                f"{phase if not phase.isdigit() else phase + '/s'}"
                f" {count if count >= 0 else 'unknown'}"
                for phase, count in results.aof_rewrites.items()
            )
        )
    if results.cpu:
        lines.append("")
        lines.append(
            "CPU per article (ms; each process's user + system time over the phase,"
            " divided by the articles offered)"
        )
        order = ["services", *SERVICES, "redis"]
        lines.append("   phase      " + "".join(f"{name:>12}" for name in order))
        for phase, used in results.cpu.items():
            label = phase if not phase.isdigit() else f"{phase}/s"
            lines.append(
                f"   {label:<10} " + "".join(f"{used.get(name, 0.0):12.2f}" for name in order)
            )
    if results.budget:
        lines.append("")
        lines.append(results.budget)
    return "\n".join(lines)


def _jsonable(value: object) -> object:
    """Infinite latencies (never published) as null, keys as strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def defaults(args: argparse.Namespace) -> argparse.Namespace:
    quick = args.quick
    for name, full, short in (
        ("archive", 10000, 2000),
        ("burst", 3000, 1000),
        ("duration", 20.0, 5.0),
        ("backfill", 100000, 0),
    ):
        if getattr(args, name) is None:
            setattr(args, name, short if quick else full)
    return args


def main(argv: list[str] | None = None) -> int:
    """`python -m galley.bench ...` is `galley bench ...` (see its --help)."""
    from galley.cli import main as galley

    return galley(["bench", *(sys.argv[1:] if argv is None else argv)])


def execute(args: argparse.Namespace) -> int:
    """Run the bench with `galley bench`'s options; the report on stdout."""
    results = run(args)
    print(report(results, args))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": {
                        k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                    },
                    **{k: _jsonable(v) for k, v in asdict(results).items()},
                },
                indent=2,
            )
        )
    return 0
