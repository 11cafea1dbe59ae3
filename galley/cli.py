"""The `galley` command: run the pipeline and operate it.

galley up [--data-dir DIR] [--replicas N]   start Redis (embedded) and every service
galley schema [OUTDIR]                      export a JSON Schema per event type
galley status                               streams, groups, lag, pending, dead letters, health
galley dlq list|show|retry|purge            inspect and replay dead-lettered entries
galley trace URI                            every hop of one article, with durations
galley replay [--from-start] [--no-follow]  every published article (current version), then live
galley evaluate CORPUS.jsonl                related-links quality and cost (docs/enrichment.md)
galley check-ninjs PATH...                  how ingest reads real ninjs documents (any dialect)
galley asyncapi                             AsyncAPI 3.0 document of every stream, on stdout
galley ops-page [--port 8005]               the ops page: pipeline picture, counts, traces
galley chaos [--n 500]                      fault-injection suite (docs/RELIABILITY.md)
galley bench                                throughput and latency (docs/PERFORMANCE.md)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from galley.supervisor import Pipeline


def cmd_up(args: argparse.Namespace) -> int:
    redis_url = os.environ.get("REDIS_URL") or None
    pipeline = Pipeline(
        Path(args.data_dir), redis_url=redis_url, redis_port=args.redis_port, replicas=args.replicas
    )
    stop = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    pipeline.start()
    where = "embedded" if pipeline.redis else "external"
    print(f"galley: Redis ({where}) at {pipeline.redis_url}", flush=True)
    if pipeline.wait_healthy(timeout=args.start_timeout):
        for p in pipeline.procs:
            print(f"galley: {p.label:<14} http://127.0.0.1:{p.port}", flush=True)
        print(
            f"galley: data in {pipeline.data_dir}; logs in {pipeline.data_dir / 'logs'}", flush=True
        )
        print(
            "galley: ready. Reader site: http://127.0.0.1:"
            f"{next(p.port for p in pipeline.procs if p.name == 'publish')}/  (Ctrl-C stops)",
            flush=True,
        )
    else:
        print(
            "galley: some services are not healthy yet; see the logs", file=sys.stderr, flush=True
        )
    try:
        while not stop:
            pipeline.supervise_once()
            time.sleep(0.2)
    finally:
        print("galley: stopping", flush=True)
        pipeline.stop()
        print("galley: stopped", flush=True)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from shared.export_schema import export

    for path in export(Path(args.outdir)):
        print(path)
    return 0


def _redis(args: argparse.Namespace) -> Any:
    import redis as sync_redis

    return sync_redis.Redis.from_url(args.redis_url, decode_responses=True)


def _ports() -> dict[str, int]:
    from galley.supervisor import SERVICES

    return {n: int(os.environ.get(f"{n.upper()}_PORT", p)) for n, p in SERVICES.items()}


def cmd_status(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from galley import ops

    client = _redis(args)
    console = Console()
    streams = Table(title="streams and consumer groups")
    for col in ("stream", "length", "group", "lag", "pending", "oldest pending", "consumers"):
        streams.add_column(col, justify="right" if col in {"length", "lag", "pending"} else "left")
    for name in ops.PIPELINE_STREAMS:
        st = ops.stream_status(client, name)
        if not st.groups:
            streams.add_row(name, str(st.length), "-", "-", "-", "-", "-")
        for g in st.groups:
            age = f"{g.oldest_pending_age_s:.1f}s" if g.oldest_pending_age_s is not None else "-"
            consumers = ", ".join(f"{c['name']} ({c['pending']})" for c in g.consumers) or "-"
            streams.add_row(
                name, str(st.length), g.name, str(g.lag), str(g.pending), age, consumers
            )
    console.print(streams)
    dlq = Table(title="dead letters")
    dlq.add_column("stream")
    dlq.add_column("entries", justify="right")
    for name in ops.dead_letter_streams(client):
        dlq.add_row(name, str(client.xlen(name)))
    console.print(dlq)
    health = Table(title="services")
    health.add_column("service")
    health.add_column("health")
    ports = {
        f"{name}#{r}" if r else name: port + 100 * r
        for name, port in _ports().items()
        for r in range(args.replicas)
    }
    for service, state in ops.service_health(ports).items():
        health.add_row(service, state)
    console.print(health)
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from galley import ops

    client = _redis(args)
    console = Console()
    streams = (
        [names_dlq(args.service)]
        if getattr(args, "service", None)
        else ops.dead_letter_streams(client)
    )
    if args.action == "list":
        table = Table(title="dead letters")
        for col in ("entry", "dlq", "from stream", "type", "subject", "reason"):
            table.add_column(col)
        for stream in streams:
            for letter in ops.list_dead_letters(client, stream, count=args.count):
                f = letter.fields
                table.add_row(
                    letter.id,
                    stream,
                    letter.origin,
                    f.get("type", ""),
                    f.get("subject", ""),
                    letter.reason,
                )
        console.print(table)
        return 0
    if args.action == "purge":
        if not args.yes:
            console.print("purge deletes dead letters for good; add --yes")
            return 2
        for stream in streams:
            console.print(f"{stream}: {client.xlen(stream)} entries deleted")
            client.delete(stream)
        return 0
    ids = args.ids or []
    letters = []
    if args.action == "retry" and args.all:
        letters = [le for s in streams for le in ops.list_dead_letters(client, s, count=10_000)]
    else:
        for entry_id in ids:
            letter = ops.find_dead_letter(client, entry_id)
            if letter is None:
                console.print(f"[red]no dead letter {entry_id}[/red]")
                return 1
            letters.append(letter)
    if not letters:
        console.print("nothing to do: name entry ids (or --all with retry)")
        return 2
    if args.action == "retry" and len(letters) > 1:
        from rich.progress import track

        for letter in track(
            letters, description="retrying dead letters", console=Console(stderr=True)
        ):
            ops.retry_dead_letter(client, letter)
        console.print(f"{len(letters)} dead letters put back on their streams")
        return 0
    for letter in letters:
        if args.action == "show":
            console.print_json(
                json.dumps({"entry": letter.id, "dlq": letter.stream, "fields": letter.fields})
            )
        else:
            new_id = ops.retry_dead_letter(client, letter)
            console.print(f"{letter.id} -> {letter.origin} as {new_id}")
    return 0


def names_dlq(service: str) -> str:
    from shared.names import dead_letter_stream

    return dead_letter_stream(service)


def cmd_trace(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from galley import ops

    hops, source = ops.full_trace(
        _redis(args), args.uri, webhooks_url=args.webhooks_url, data_dir=args.data_dir
    )
    console = Console()
    if not console.is_terminal:  # piped or captured: don't wrap the table at 80 columns
        console = Console(width=200)
    if not hops:
        console.print(f"no event mentions {args.uri}")
        return 1
    table = Table(title=f"trace of {args.uri}", caption=f"deliveries: {source}")
    for col in ("time (UTC)", "hop", "event", "v", "where", "since previous", "since accepted"):
        table.add_column(col, justify="right" if col.startswith("since") else "left")
    previous = accepted = None
    for hop in hops:
        if accepted is None and hop.stream == ops.names.ARTICLES_INGESTED:
            accepted = hop.time
        table.add_row(
            hop.time.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            hop.label,
            hop.type,
            str(hop.version or ""),
            f"{hop.stream} {hop.entry_id}",
            _ms(hop.time, previous),
            _ms(hop.time, accepted),
        )
        previous = hop.time
    console.print(table)
    trace_ids = sorted({h.traceparent.split("-")[1] for h in hops if h.traceparent.count("-") == 3})
    if trace_ids:
        console.print(f"trace ids: {', '.join(trace_ids)}")
    return 0


def _ms(moment: Any, since: Any) -> str:
    return f"+{(moment - since).total_seconds() * 1000:.0f} ms" if since is not None else ""


class _CountingRedis:
    """Forwards to a redis.asyncio client; advances a progress bar per XRANGE page."""

    def __init__(self, inner: Any, advance: Any) -> None:
        self._inner, self._advance = inner, advance

    async def xrange(self, *args: Any, **kwargs: Any) -> Any:
        page = await self._inner.xrange(*args, **kwargs)
        self._advance(len(page))
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def cmd_replay(args: argparse.Namespace) -> int:
    """`galley replay`: galley.replay's output on stdout, a progress bar on stderr while
    the history is read (`python -m galley.replay` is the same without the bar)."""
    import asyncio
    import contextlib

    import redis.asyncio as aioredis
    from rich.console import Console
    from rich.progress import Progress

    from galley import replay
    from shared import names

    async def run() -> None:
        client = aioredis.from_url(args.redis_url)
        try:
            total = int(await client.xlen(names.ARTICLES_PUBLISHED)) if args.from_start else 0
            with Progress(
                console=Console(stderr=True), transient=True, disable=not args.from_start
            ) as progress:
                task = progress.add_task("reading history", total=total)
                counting = _CountingRedis(client, lambda n: progress.advance(task, n))
                stream = replay.replay(
                    counting, from_start=args.from_start, live=not args.no_follow
                )
                async for entry in stream:
                    progress.update(task, completed=total, visible=False)
                    print(replay.describe(entry, args.json), flush=True)
        finally:
            await client.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="galley", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in PASSTHROUGH.items():
        sub.add_parser(name, help=f"see `python -m {module} --help`", add_help=False)

    up = sub.add_parser("up", help="run the whole pipeline on this machine")
    up.add_argument("--data-dir", default=os.environ.get("GALLEY_DATA_DIR", "data"))
    up.add_argument(
        "--redis-port", type=int, default=int(os.environ.get("GALLEY_REDIS_PORT", "6380"))
    )
    up.add_argument("--replicas", type=int, default=1)
    up.add_argument("--start-timeout", type=float, default=60.0)
    up.set_defaults(func=cmd_up)

    schema = sub.add_parser("schema", help="export a JSON Schema for every event")
    schema.add_argument("outdir", nargs="?", default="schemas")
    schema.set_defaults(func=cmd_schema)

    default_redis = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6380/0"
    status = sub.add_parser("status", help="streams, groups, lag, dead letters, health")
    status.add_argument("--redis-url", default=default_redis)
    status.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="also check replica r at each port + 100 * r (galley up --replicas)",
    )
    status.set_defaults(func=cmd_status)

    dlq = sub.add_parser("dlq", help="list, show, retry or purge dead-lettered entries")
    dlq.add_argument("action", choices=["list", "show", "retry", "purge"])
    dlq.add_argument("ids", nargs="*", help="dead-letter entry ids (show, retry)")
    dlq.add_argument("--service", help="only this service's dead-letter stream")
    dlq.add_argument("--all", action="store_true", help="retry every dead letter")
    dlq.add_argument("--yes", action="store_true", help="confirm purge")
    dlq.add_argument("--count", type=int, default=100)
    dlq.add_argument("--redis-url", default=default_redis)
    dlq.set_defaults(func=cmd_dlq)

    tr = sub.add_parser("trace", help="every hop of one article")
    tr.add_argument("uri")
    tr.add_argument("--redis-url", default=default_redis)
    tr.add_argument(
        "--webhooks-url",
        default=f"http://127.0.0.1:{os.environ.get('WEBHOOKS_PORT', '8004')}",
        help="the webhooks service, for deliveries to subscribers",
    )
    tr.add_argument(
        "--data-dir",
        default=os.environ.get("GALLEY_DATA_DIR", "data"),
        help="read webhooks.db here (read-only) when the service is down",
    )
    tr.set_defaults(func=cmd_trace)

    rp = sub.add_parser("replay", help="current version of every published article, then live")
    rp.add_argument("--redis-url", "--redis", default=default_redis)
    rp.add_argument(
        "--from-start",
        action="store_true",
        help="list the current version of every published article first",
    )
    rp.add_argument("--no-follow", action="store_true", help="stop after the history")
    rp.add_argument("--json", action="store_true", help="one JSON event per line")
    rp.set_defaults(func=cmd_replay)
    return parser


# Subcommands that own their arguments: `galley NAME ...` is `python -m galley.NAME ...`.
PASSTHROUGH = {
    "evaluate": "galley.evaluate",
    "check-ninjs": "galley.conformance",
    "asyncapi": "galley.asyncapi",
    "ops-page": "galley.opsweb.__main__",
    "chaos": "galley.chaos.__main__",
    "bench": "galley.bench.run",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PASSTHROUGH:
        import importlib

        module = importlib.import_module(PASSTHROUGH[argv[0]])
        if argv[0] == "asyncapi":
            return int(module.main())
        return int(module.main(argv[1:]))
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
