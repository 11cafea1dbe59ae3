"""The `galley` command: run the pipeline on this machine and operate it.

Built on Click: every command and option is declared here, once, with its help
(`galley --help`, `galley COMMAND --help`). The modules behind the long commands
(galley.evaluate, galley.conformance, galley.chaos, galley.bench.run, ...) keep
their `python -m` entry points, which hand their arguments to the same commands.

Exit codes (docs/OPERATIONS.md):

    0  done; for a check, nothing wrong
    1  the command ran and found a problem: dead letters or a service not ready in
       `galley status`, an unknown dead letter or uri, a chaos run that lost stories
    2  the command line is wrong (unknown option, missing argument, bad value)
    3  Redis or a service cannot be reached, or a server cannot start (the embedded
       Redis, a service or the ops page: e.g. its port is taken)
  130  interrupted (Ctrl-C), except `galley up` and `galley replay`, which end with 0

Output that a script reads stays whole when piped: tables are plain text with
every name in full when stdout is not a terminal, `--json` gives JSON, and
progress bars are drawn on stderr, on a terminal only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click
import redis as sync_redis

from galley.supervisor import SERVICES, Pipeline, healthy

OK, PROBLEM, USAGE, UNREACHABLE = 0, 1, 2, 3
DEFAULT_REDIS_URL = "redis://127.0.0.1:6380/0"
DEFAULT_OPS_PORT = 8005
REDIS_HOW = "set its address with --redis-url or the REDIS_URL environment variable"

F = TypeVar("F", bound=Callable[..., Any])


# --- errors as sentences ---------------------------------------------------------------------


class Unreachable(Exception):
    """Redis or a service did not answer (or would not start): one sentence, exit code 3."""


_last_redis_url: list[str] = []  # the Redis a command connected to, for errors mid-command
_command: list[str] = ["galley"]  # the command running, to open its error sentences


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def reason(exc: BaseException) -> str:
    """The operating system's words for a failed connection, else the exception's."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and (seen.strerror or seen.errno):
            # asyncio's own wording ("Connect call failed (...)") gives way to the system's
            errno = seen.errno
            words = (
                os.strerror(errno) if isinstance(errno, int) and errno > 0 else str(seen.strerror)
            )
            return words[:1].lower() + words[1:]
        seen = seen.__cause__ or seen.__context__
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return text[:1].lower() + text[1:]


def redis_unreachable(url: str, exc: BaseException) -> Unreachable:
    return Unreachable(f"cannot reach Redis at {redact(url)} ({reason(exc)}); {REDIS_HOW}.")


def redis_client(url: str) -> sync_redis.Redis:
    """A client for `url` that has answered a PING (else Unreachable, or a usage error for a
    URL that is not one)."""
    _last_redis_url[:] = [url]
    try:
        client = sync_redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5)
    except ValueError as exc:
        raise click.BadParameter(
            f"{redact(url)!r} is not a Redis URL ({exc})", param_hint="'--redis-url' / REDIS_URL"
        ) from None
    try:
        client.ping()
    except sync_redis.RedisError as exc:
        client.close()
        raise redis_unreachable(url, exc) from None
    return client


# --- output ----------------------------------------------------------------------------------


def is_terminal() -> bool:
    return sys.stdout.isatty()


def print_table(
    title: str, columns: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]
) -> None:
    """A table: drawn by rich on a terminal (long names fold, never cut); plain text with
    every cell in full when piped, one row per line, columns two spaces apart."""
    if is_terminal():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=Text(title))
        for i, (name, right) in enumerate(columns):
            table.add_column(
                name,
                justify="right" if right else "left",
                overflow="fold",
                no_wrap=i == 0,  # the first column names the row: narrowed last, then folded
            )
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        Console().print(table)
        return
    widths = [max([len(name), *(len(r[i]) for r in rows)]) for i, (name, _) in enumerate(columns)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if right else cell.ljust(w)
            for cell, w, (_, right) in zip(cells, widths, columns, strict=True)
        ).rstrip()

    click.echo(title)
    click.echo(line([name for name, _ in columns]))
    for row in rows:
        click.echo(line(row))
    click.echo()


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def progress(*, transient: bool = True) -> Any:
    """A rich progress display on stderr, drawn only when stderr is a terminal (a no-op
    otherwise). While it shows, lines printed to stderr (and to stdout, when stdout is the
    terminal too) appear above it."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
        disable=not console.is_terminal,
        redirect_stdout=sys.stdout.isatty(),
    )


# --- the command group and shared options ----------------------------------------------------


class Ordered(click.Group):
    """Commands listed in the order they are declared (the order an operator meets them)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100, "show_default": True}


@click.group(
    cls=Ordered,
    context_settings=CONTEXT,
    epilog="Exit codes: "
    + "; ".join(
        (
            "0 done (nothing wrong)",
            "1 a problem was found (e.g. dead letters or an unready service in `galley status`)",
            "2 usage error",
            "3 Redis or a service cannot be reached, or a port to listen on is taken",
        )
    )
    + ".",
)
@click.version_option(package_name="galley", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """galley: an event-driven publishing pipeline for newsrooms (ingest, enrichment,
    publish, webhooks over Redis streams). Run it with `galley up`; operate it with
    the other commands. `galley COMMAND --help` tells more about each."""
    _command[:] = [f"galley {ctx.invoked_subcommand}"]


def redis_url_option(*names: str) -> Callable[[F], F]:
    return click.option(
        *(names or ("--redis-url",)),
        "redis_url",
        envvar="REDIS_URL",
        show_envvar=True,
        default=DEFAULT_REDIS_URL,
        metavar="URL",
        help="The Redis that galley uses (the default is the one `galley up` starts).",
    )


def json_option(what: str) -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON.")


def data_dir_option(purpose: str) -> Callable[[F], F]:
    return click.option(
        "--data-dir",
        envvar="GALLEY_DATA_DIR",
        show_envvar=True,
        default="data",
        metavar="DIR",
        help=purpose,
    )


def service_ports() -> dict[str, int]:
    """Each service's port: `<SERVICE>_PORT`, else its default (8001-8004)."""
    return {n: int(os.environ.get(f"{n.upper()}_PORT", p)) for n, p in SERVICES.items()}


def service_targets(replicas: int = 1) -> dict[str, int | str]:
    """Where to ask each service for its health: `<SERVICE>_URL` when set (a container
    name, a load balancer), else 127.0.0.1 at its port, replica r at port + 100 * r."""
    targets: dict[str, int | str] = {}
    for name, port in service_ports().items():
        url = os.environ.get(f"{name.upper()}_URL")
        if url:
            targets[name] = url.rstrip("/")
            continue
        for r in range(replicas):
            targets[f"{name}#{r}" if r else name] = port + 100 * r
    return targets


def webhooks_url() -> str:
    return (
        os.environ.get("WEBHOOKS_URL") or f"http://127.0.0.1:{service_ports()['webhooks']}"
    ).rstrip("/")


def int_list(_ctx: click.Context, param: click.Parameter, value: str) -> list[int]:
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of numbers") from None
    if not numbers or min(numbers) < 1:
        raise click.BadParameter(f"{value!r}: give one or more positive numbers")
    return numbers


# --- galley up ------------------------------------------------------------------------------


@cli.command(short_help="Run Redis, the four services and the ops page on this machine.")
@data_dir_option("Where Redis's files, the services' SQLite files and the logs go.")
@click.option(
    "--redis-port",
    envvar="GALLEY_REDIS_PORT",
    show_envvar=True,
    type=click.IntRange(1, 65535),
    metavar="PORT",
    default=6380,
    help="Port of the embedded Redis (not started when REDIS_URL names a Redis).",
)
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    default=1,
    metavar="N",
    help="Processes per service; replica r listens on the service's port + 100 * r.",
)
@click.option(
    "--start-timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    metavar="SECONDS",
    help="How long to wait for every service to be ready.",
)
@click.option(
    "--ops-port",
    envvar="OPS_PORT",
    show_envvar=True,
    type=click.IntRange(1, 65535),
    metavar="PORT",
    default=DEFAULT_OPS_PORT,
    help="Port of the ops page.",
)
@click.option("--no-ops-page", is_flag=True, help="Do not start the ops page.")
@click.option(
    "--redis-url",
    envvar="REDIS_URL",
    show_envvar=True,
    metavar="URL",
    show_default="start an embedded Redis",
    help="Use this Redis instead of starting one.",
)
def up(
    redis_url: str | None,
    data_dir: str,
    redis_port: int,
    replicas: int,
    start_timeout: float,
    ops_port: int,
    no_ops_page: bool,
) -> int:
    """Start an embedded Redis (unless --redis-url names one), every service as a process
    of its own and the ops page; restart any that dies; Ctrl-C stops them all.

    The services listen on 127.0.0.1 at INGEST_PORT, ENRICHMENT_PORT, PUBLISH_PORT and
    WEBHOOKS_PORT (8001-8004); the reader site's absolute URLs follow PUBLISH_BASE_URL
    (derived from the publish port when unset). Without INGEST_API_KEYS only loopback
    clients may post to ingest. Logs go to DATA_DIR/logs.
    """
    if redis_url:
        redis_client(redis_url).close()  # one sentence now, rather than four failing services
    elif _listening(redis_port):
        raise Unreachable(
            f"cannot start the embedded Redis: port {redis_port} is taken (another galley up?);"
            " stop what holds it, choose another port with --redis-port or GALLEY_REDIS_PORT,"
            " or use that Redis by setting REDIS_URL."
        )
    pipeline = Pipeline(
        Path(data_dir),
        redis_url=redis_url,
        redis_port=redis_port,
        replicas=replicas,
        ops_port=None if no_ops_page else ops_port,
    )
    wanted = {
        f"{name}#{r}" if r else name: pipeline.port(name) + 100 * r
        for name in pipeline.services
        for r in range(replicas)
    }
    if not no_ops_page:
        wanted["ops page"] = ops_port
    taken = [f"{port} ({name})" for name, port in wanted.items() if _listening(port)]
    if taken:
        raise Unreachable(
            f"cannot start the services: port{'s' * (len(taken) > 1)} {', '.join(taken)}"
            f" {'are' if len(taken) > 1 else 'is'} taken (another galley up?); stop what holds"
            f" {'them' if len(taken) > 1 else 'it'}, or choose other ports with INGEST_PORT,"
            " ENRICHMENT_PORT, PUBLISH_PORT, WEBHOOKS_PORT and --ops-port."
        )
    stop = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        pipeline.start()
    except RuntimeError as exc:  # the embedded redis-server did not come up
        pipeline.stop()
        raise Unreachable(
            f"the embedded Redis did not start on port {redis_port} ({exc}); if another"
            " galley up is running, stop it, or choose another port with --redis-port or"
            " GALLEY_REDIS_PORT."
        ) from None
    say = click.echo
    where = "embedded" if pipeline.redis else "external"
    say(f"galley: Redis ({where}) at {redact(pipeline.redis_url)}")
    ready = pipeline.wait_healthy(timeout=start_timeout)
    for p in pipeline.procs:
        say(f"galley: {p.label:<14} http://127.0.0.1:{p.port}{'/' * (p.name == 'ops')}")
    say(f"galley: data in {pipeline.data_dir}; logs in {pipeline.data_dir / 'logs'}")
    if not os.environ.get("INGEST_API_KEYS", "").strip():
        say(
            "galley: Only loopback clients may post (INGEST_API_KEYS is not set); set"
            " INGEST_API_KEYS=source:key,... to let other clients post with a key."
        )
    if ready:
        publish = next(p.port for p in pipeline.procs if p.name == "publish")
        say(f"galley: ready. Reader site: http://127.0.0.1:{publish}/  (Ctrl-C stops)")
    else:
        late = ", ".join(p.label for p in pipeline.procs if not healthy(p.port))
        click.echo(
            f"galley: {late or 'some services'} not ready after {start_timeout:g}s; see"
            f" {pipeline.data_dir / 'logs'} (Ctrl-C stops)",
            err=True,
        )
    try:
        while not stop:
            pipeline.supervise_once()
            time.sleep(0.2)
    finally:
        say("galley: stopping")
        pipeline.stop()
        say("galley: stopped")
    return OK


def _can_listen(host: str, port: int, how: str) -> None:
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise Unreachable(
            f"cannot listen on {host}:{port} ({reason(exc)}); choose another port with {how}."
        ) from None


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- galley status ---------------------------------------------------------------------------


@cli.command(short_help="Streams, consumer groups, lag, dead letters and service health.")
@redis_url_option()
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    default=1,
    metavar="N",
    help="Also check replica r of each service at its port + 100 * r (`galley up --replicas`).",
)
@json_option("everything")
def status(redis_url: str, replicas: int, as_json: bool) -> int:
    """Per stream: its length; per consumer group: lag, pending entries, the age of the
    oldest pending entry and the consumers; the size of every dead-letter stream; each
    service's readiness (asked at 127.0.0.1 and its port, or at <SERVICE>_URL when set).

    Exits 1 when a dead-letter stream holds entries or a service is not ready.
    """
    from galley import ops

    client = redis_client(redis_url)
    streams = [ops.stream_status(client, name) for name in ops.PIPELINE_STREAMS]
    dead = {name: int(client.xlen(name)) for name in ops.dead_letter_streams(client)}
    health = ops.service_health(service_targets(replicas))
    problems = [f"{n} dead letter{'s' * (n != 1)} on {s}" for s, n in dead.items() if n]
    problems += [f"{s} is {state}" for s, state in health.items() if state != "ready"]
    if as_json:
        print_json(
            {
                "redis_url": redact(redis_url),
                "ok": not problems,
                "problems": problems,
                "streams": [dataclasses.asdict(st) for st in streams],
                "dead_letters": dead,
                "services": health,
            }
        )
    else:
        rows = []
        for st in streams:
            if not st.groups:
                rows.append([st.name, str(st.length), "-", "-", "-", "-", "-"])
            for g in st.groups:
                age = (
                    f"{g.oldest_pending_age_s:.1f}s" if g.oldest_pending_age_s is not None else "-"
                )
                consumers = ", ".join(f"{c['name']} ({c['pending']})" for c in g.consumers)
                lag = str(g.lag) if g.lag is not None else "-"
                rows.append(
                    [st.name, str(st.length), g.name, lag, str(g.pending), age, consumers or "-"]
                )
        print_table(
            "streams and consumer groups",
            [
                ("stream", False),
                ("length", True),
                ("group", False),
                ("lag", True),
                ("pending", True),
                ("oldest pending", False),
                ("consumers", False),
            ],
            rows,
        )
        print_table(
            "dead letters",
            [("stream", False), ("entries", True)],
            [[s, str(n)] for s, n in dead.items()],
        )
        print_table(
            "services", [("service", False), ("health", False)], [list(i) for i in health.items()]
        )
    if problems:
        click.echo(f"galley status: {'; '.join(problems)}.", err=True)
        return PROBLEM
    return OK


# --- galley trace ----------------------------------------------------------------------------


@cli.command(short_help="Every hop of one article, up to each webhook delivery.")
@click.argument("uri")
@redis_url_option()
@click.option(
    "--webhooks-url",
    default=webhooks_url,
    show_default="WEBHOOKS_URL, else http://127.0.0.1:$WEBHOOKS_PORT",
    metavar="URL",
    help="The webhooks service, asked for the deliveries to subscribers.",
)
@data_dir_option("Read webhooks.db here (read-only) when the webhooks service does not answer.")
@json_option("the hops")
def trace(uri: str, redis_url: str, webhooks_url: str, data_dir: str, as_json: bool) -> int:
    """Every hop of the article URI: submitted, accepted at ingest (or rejected), enriched,
    published, and each delivery to each webhook subscriber, with the time since the
    previous hop and since acceptance, and the trace id(s).

    Exits 1 when no event mentions URI.
    """
    from galley import ops

    hops, source = ops.full_trace(
        redis_client(redis_url), uri, webhooks_url=webhooks_url, data_dir=data_dir
    )
    trace_ids = sorted({h.traceparent.split("-")[1] for h in hops if h.traceparent.count("-") == 3})
    timed = _with_times(hops, ops.names.ARTICLES_INGESTED)
    if as_json:
        print_json(
            {
                "uri": uri,
                "deliveries_from": source,
                "trace_ids": trace_ids,
                "hops": [
                    {
                        "time": hop.time.isoformat(),
                        "hop": hop.label,
                        "type": hop.type,
                        "version": hop.version,
                        "stream": hop.stream,
                        "entry_id": hop.entry_id,
                        "event_id": hop.event_id,
                        "traceparent": hop.traceparent,
                        "since_previous_ms": _ms_value(hop.time, prev),
                        "since_accepted_ms": _ms_value(hop.time, acc),
                    }
                    for hop, prev, acc in timed
                ],
            }
        )
        return OK if hops else PROBLEM
    if not hops:
        click.echo(f"no event mentions {uri}")
        return PROBLEM
    print_table(
        f"trace of {uri}",
        [
            ("time (UTC)", False),
            ("hop", False),
            ("event", False),
            ("v", False),
            ("where", False),
            ("since previous", True),
            ("since accepted", True),
        ],
        [
            [
                hop.time.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                hop.label,
                hop.type,
                str(hop.version or ""),
                f"{hop.stream} {hop.entry_id}",
                _ms(hop.time, previous),
                _ms(hop.time, accepted),
            ]
            for hop, previous, accepted in timed
        ],
    )
    click.echo(f"deliveries: {source}")
    if trace_ids:
        click.echo(f"trace ids: {', '.join(trace_ids)}")
    return OK


def _with_times(hops: Sequence[Any], accepted_stream: str) -> list[tuple[Any, Any, Any]]:
    out, previous, accepted = [], None, None
    for hop in hops:
        if accepted is None and hop.stream == accepted_stream:
            accepted = hop.time
        out.append((hop, previous, accepted))
        previous = hop.time
    return out


def _ms_value(moment: Any, since: Any) -> int | None:
    return round((moment - since).total_seconds() * 1000) if since is not None else None


def _ms(moment: Any, since: Any) -> str:
    value = _ms_value(moment, since)
    return f"+{value} ms" if value is not None else ""


# --- galley dlq ------------------------------------------------------------------------------


@cli.group(cls=Ordered, short_help="List, show, retry or purge dead-lettered entries.")
@click.pass_context
def dlq(ctx: click.Context) -> None:
    """Dead letters: entries a service could not handle after its retries, kept on
    dlq.<service> with the reason and the stream they came from."""
    _command[:] = [f"galley dlq {ctx.invoked_subcommand}"]


def service_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--service",
        type=click.Choice(list(SERVICES)),
        help=f"Only this service's dead-letter stream ({what}).",
        show_default="every service",
    )


def _dlq_streams(client: sync_redis.Redis, service: str | None) -> list[str]:
    from galley import ops
    from shared.names import dead_letter_stream

    return [dead_letter_stream(service)] if service else ops.dead_letter_streams(client)


@dlq.command("list", short_help="The dead letters, with the reason of each.")
@service_option("list")
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=100,
    metavar="N",
    help="At most this many entries per dead-letter stream.",
)
@redis_url_option()
@json_option("the entries")
def dlq_list(service: str | None, count: int, redis_url: str, as_json: bool) -> int:
    """The dead letters: entry id, dead-letter stream, the stream it came from, event type,
    subject and the reason it was dead-lettered."""
    from galley import ops

    client = redis_client(redis_url)
    letters = [
        letter
        for stream in _dlq_streams(client, service)
        for letter in ops.list_dead_letters(client, stream, count=count)
    ]
    if as_json:
        print_json(
            [
                {
                    "entry": le.id,
                    "dlq": le.stream,
                    "from_stream": le.origin,
                    "type": le.fields.get("type", ""),
                    "subject": le.fields.get("subject", ""),
                    "reason": le.reason,
                    "fields": le.fields,
                }
                for le in letters
            ]
        )
        return OK
    print_table(
        "dead letters",
        [(c, False) for c in ("entry", "dlq", "from stream", "type", "subject", "reason")],
        [
            [
                le.id,
                le.stream,
                le.origin,
                le.fields.get("type", ""),
                le.fields.get("subject", ""),
                le.reason,
            ]
            for le in letters
        ],
    )
    return OK


def _find(client: sync_redis.Redis, ids: Sequence[str]) -> list[Any] | None:
    from galley import ops

    letters = []
    for entry_id in ids:
        letter = ops.find_dead_letter(client, entry_id)
        if letter is None:
            click.echo(f"galley dlq: no dead letter {entry_id} on any dead-letter stream", err=True)
            return None
        letters.append(letter)
    return letters


@dlq.command("show", short_help="Every field of the named dead letters, as JSON.")
@click.argument("ids", nargs=-1, required=True, metavar="ENTRY_ID...")
@redis_url_option()
def dlq_show(ids: tuple[str, ...], redis_url: str) -> int:
    """Every field of each named dead letter, as JSON (one object per line when piped).

    Exits 1 when an entry id is on no dead-letter stream.
    """
    letters = _find(redis_client(redis_url), ids)
    if letters is None:
        return PROBLEM
    for letter in letters:
        shown = {"entry": letter.id, "dlq": letter.stream, "fields": letter.fields}
        if is_terminal():
            from rich.console import Console

            Console().print_json(json.dumps(shown, ensure_ascii=False))
        else:
            click.echo(json.dumps(shown, ensure_ascii=False))
    return OK


@dlq.command("retry", short_help="Put dead letters back on the stream they came from.")
@click.argument("ids", nargs=-1, metavar="[ENTRY_ID]...")
@click.option("--all", "every", is_flag=True, help="Retry every dead letter (of --service).")
@service_option("with --all")
@redis_url_option()
def dlq_retry(ids: tuple[str, ...], every: bool, service: str | None, redis_url: str) -> int:
    """Put each named dead letter (or, with --all, every one) back on the stream it came
    from, as a new entry, and remove it from its dead-letter stream.

    Exits 1 when an entry id is on no dead-letter stream, or a letter does not say which
    stream it came from (it stays where it is).
    """
    from galley import ops

    if bool(ids) == every:
        raise click.UsageError("name the entry ids to retry, or give --all (not both)")
    client = redis_client(redis_url)
    if every:
        letters = [
            le
            for s in _dlq_streams(client, service)
            for le in ops.list_dead_letters(client, s, count=10_000)
        ]
    else:
        found = _find(client, ids)
        if found is None:
            return PROBLEM
        letters = found
    if not letters:
        click.echo("no dead letters to retry")
        return OK
    stuck: list[str] = []
    with progress() as bar:
        for letter in bar.track(letters, description="retrying dead letters"):
            try:
                new_id = ops.retry_dead_letter(client, letter)
            except ValueError as exc:  # e.g. it does not say which stream it came from
                stuck.append(f"galley dlq retry: {exc}")
                continue
            if len(letters) == 1:
                click.echo(f"{letter.id} -> {letter.origin} as {new_id}")
    if len(letters) > 1:
        click.echo(f"{len(letters) - len(stuck)} dead letters put back on their streams")
    for line in stuck:
        click.echo(line, err=True)
    return PROBLEM if stuck else OK


@dlq.command("purge", short_help="Delete dead letters for good (needs --yes).")
@service_option("purge")
@click.option("--yes", is_flag=True, help="Confirm: the entries are deleted for good.")
@redis_url_option()
def dlq_purge(service: str | None, yes: bool, redis_url: str) -> int:
    """Delete every dead-letter stream (or --service's) for good."""
    if not yes:
        raise click.UsageError("purge deletes dead letters for good; add --yes")
    client = redis_client(redis_url)
    for stream in _dlq_streams(client, service):
        click.echo(f"{stream}: {client.xlen(stream)} entries deleted")
        client.delete(stream)
    return OK


# --- galley replay ---------------------------------------------------------------------------


class _CountingRedis:
    """Forwards to a redis.asyncio client; advances a progress bar per XRANGE page."""

    def __init__(self, inner: Any, advance: Callable[[int], Any]) -> None:
        self._inner, self._advance = inner, advance

    async def xrange(self, *args: Any, **kwargs: Any) -> Any:
        page = await self._inner.xrange(*args, **kwargs)
        self._advance(len(page))
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def _archive_of(site_url: str) -> Any:
    """The publish service's archive of current versions, or None (said on stderr) when it
    cannot be reached: the history is then what the stream still holds."""
    import httpx

    from galley import replay as replaying

    try:
        async with httpx.AsyncClient(timeout=5) as probe:
            answer = await probe.get(site_url.rstrip("/") + "/v1/published", params={"limit": 1})
            answer.raise_for_status()
    except httpx.HTTPError as exc:
        click.echo(
            f"galley replay: cannot ask publish at {site_url} for older stories ({exc});"
            " the history is what articles.published still holds. Set --site-url or"
            " PUBLISH_BASE_URL.",
            err=True,
        )
        return None
    return lambda: replaying.publish_archive(site_url)


@cli.command(short_help="Every published article's current version, then live events.")
@redis_url_option("--redis-url", "--redis")
@click.option(
    "--from-start",
    is_flag=True,
    help="First list the current version of every published article, in publication order.",
)
@click.option("--no-follow", is_flag=True, help="Stop after the history instead of following.")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line.")
@click.option(
    "--site-url",
    envvar="PUBLISH_BASE_URL",
    show_envvar=True,
    default="http://127.0.0.1:8003",
    show_default=True,
    help="The publish service, asked for the stories older than the stream keeps.",
)
@click.option("--stream", default=None, hidden=True, help="Read another stream (tests).")
def replay(
    redis_url: str,
    from_start: bool,
    no_follow: bool,
    as_json: bool,
    site_url: str,
    stream: str | None,
) -> int:
    """The events of articles.published on stdout: with --from-start, the current version of
    every published article first (killed ones left out; the stories older than the stream
    keeps come from the publish service at --site-url), then, unless --no-follow, each new
    event as it is published. Ctrl-C stops. A progress bar on stderr (on a terminal) shows
    the history being read."""
    import asyncio
    import contextlib

    import redis.asyncio as aioredis

    from galley import replay as replaying
    from shared import names

    stream = stream or names.ARTICLES_PUBLISHED
    _last_redis_url[:] = [redis_url]

    async def run() -> None:
        try:
            client = aioredis.from_url(redis_url, socket_connect_timeout=5)
        except ValueError as exc:
            raise click.BadParameter(
                f"{redact(redis_url)!r} is not a Redis URL ({exc})",
                param_hint="'--redis-url' / REDIS_URL",
            ) from None
        try:
            try:
                await client.ping()
            except sync_redis.RedisError as exc:
                raise redis_unreachable(redis_url, exc) from None
            total = int(await client.xlen(stream)) if from_start else 0
            archive = None
            if from_start and stream == names.ARTICLES_PUBLISHED:
                archive = await _archive_of(site_url)
            with progress() as bar:
                task = bar.add_task("reading history", total=total, visible=from_start)
                counting = _CountingRedis(client, lambda n: bar.advance(task, n))
                events = replaying.replay(
                    counting,
                    from_start=from_start,
                    live=not no_follow,
                    stream=stream,
                    archive=archive,
                )
                async for entry in events:
                    bar.update(task, completed=total, visible=False)
                    print(replaying.describe(entry, as_json), flush=True)
        finally:
            await client.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return OK


# --- galley ops-page -------------------------------------------------------------------------


@cli.command("ops-page", short_help="Serve the ops page: the pipeline as a live picture.")
@click.option(
    "--host",
    envvar="OPS_HOST",
    show_envvar=True,
    default="127.0.0.1",
    help="Address to listen on (0.0.0.0 in a container).",
)
@click.option(
    "--port",
    envvar="OPS_PORT",
    show_envvar=True,
    type=click.IntRange(1, 65535),
    metavar="PORT",
    default=DEFAULT_OPS_PORT,
    help="Port to listen on.",
)
@redis_url_option()
@data_dir_option("Read webhooks.db here (read-only) for traces when the webhooks service is down.")
def ops_page(host: str, port: int, redis_url: str, data_dir: str) -> int:
    """A read-only web page: the pipeline as a picture (each service's readiness and dead
    letters, each stream's length, lag and pending), recent articles, refused submissions
    and a trace of any uri; GET /api/overview gives the same as JSON.

    Services are asked at 127.0.0.1 and <SERVICE>_PORT, or at <SERVICE>_URL when set
    (e.g. http://ingest:8001 in compose); deliveries at WEBHOOKS_URL.
    """
    import uvicorn

    from galley.opsweb.app import create_app
    from galley.opsweb.data import Config

    redis_client(redis_url).close()  # say it now if Redis cannot be reached
    _can_listen(host, port, "--port or OPS_PORT")
    config = Config(redis_url, service_targets(), webhooks_url=webhooks_url(), data_dir=data_dir)
    click.echo(f"galley ops page: http://{host}:{port}/")
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
    return OK


# --- schemas and specifications --------------------------------------------------------------


@cli.command(short_help="Export a JSON Schema for every event type.")
@click.argument("outdir", default="schemas", type=click.Path(file_okay=False, path_type=Path))
def schema(outdir: Path) -> int:
    """Write one <event type>.schema.json per event into OUTDIR, and print their paths."""
    from shared.export_schema import export

    for path in export(outdir):
        click.echo(str(path))
    return OK


@cli.command(short_help="Print the AsyncAPI 3.0 document of every stream.")
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    show_default="stdout",
    help="Write the document to this file.",
)
def asyncapi(output: Any) -> int:
    """The AsyncAPI 3.0 document of every galley stream, as JSON: FastStream's document of
    each service (what it reads, writes and dead-letters, with the payload models of the
    event catalogue), joined into one. One service's alone: `faststream docs gen
    services.<name>:app`."""
    from galley.asyncapi import document

    json.dump(document(), output, indent=2, ensure_ascii=False)
    output.write("\n")
    return OK


# --- checks and measurements -----------------------------------------------------------------


@cli.command(
    "check-ninjs", short_help="Read ninjs documents as ingest does; say why any is refused."
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--post",
    metavar="URL",
    help="Also post each document to this ingest (e.g. http://127.0.0.1:8001).",
)
@click.option("--key", help="API key for --post (without one, a loopback ingest with no keys).")
@click.option(
    "--fresh-uris", is_flag=True, help="With --post: give each document a uri of its own."
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=30.0,
    metavar="SECONDS",
    help="With --post: how long to wait for the pages of accepted stories.",
)
@json_option("one object per document")
def check_ninjs(
    paths: tuple[Path, ...],
    post: str | None,
    key: str | None,
    fresh_uris: bool,
    wait: float,
    as_json: bool,
) -> int:
    """Read every JSON file under PATHS (a ninjs document, or a list of them) by ingest's
    own rules, in this process: its dialect, item type, and either what the page would show
    (headline, words, reading time, dates, byline, media) or why ingest refuses it.

    With --post, each document is also posted to a running ingest and the answer's status
    shown, then the page of every accepted story is fetched. A refused document is a
    reading, not a failure: the exit code is 0 unless ingest cannot be reached (3).
    """
    from galley import conformance

    return conformance.check(
        list(paths), post=post, key=key, fresh_uris=fresh_uris, wait=wait, as_json=as_json
    )


@cli.command(short_help="Related-links quality and cost, measured on a news corpus.")
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-scale", is_flag=True, help="Quality only: leave out the cost at scale.")
@click.option(
    "--sizes",
    default="1000,10000,100000",
    callback=int_list,
    metavar="N,N,...",
    help="Sizes of the synthetic archives for the cost measurement.",
)
def evaluate(corpus: Path, skip_scale: bool, sizes: list[int]) -> int:
    """Replay CORPUS (a news_cluster articles.jsonl) in publication order and print the
    related links' quality (P@1, P@5, R-precision, MAP) beside a TF-IDF baseline, what the
    relevance floor does, a same-language check, and the cost of one query at each size
    (docs/enrichment.md)."""
    from galley import evaluate as evaluating

    return evaluating.run(corpus, sizes=sizes, skip_scale=skip_scale)


@cli.command(short_help="Fault-injection suite: what kills and a Redis restart lose.")
@click.option(
    "--n", type=click.IntRange(min=1), metavar="N", default=500, help="Stories in the workload."
)
@click.option(
    "--concurrency", type=click.IntRange(min=1), metavar="N", default=16, help="Requests in flight."
)
@click.option(
    "--kills-each", type=click.IntRange(min=0), metavar="N", default=3, help="SIGKILLs per service."
)
@click.option(
    "--port-closed",
    type=click.FloatRange(min=0),
    default=10.0,
    metavar="SECONDS",
    help="How long Redis's port is shut.",
)
@click.option(
    "--claim-idle-ms",
    type=click.IntRange(min=1),
    metavar="N",
    default=5000,
    help="Services reclaim another consumer's pending entry after this many ms.",
)
@click.option(
    "--quiesce-timeout",
    type=click.FloatRange(min=0),
    default=600.0,
    metavar="SECONDS",
    help="How long to wait for the pipeline to go quiet after the workload.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    show_default="a temporary directory",
    help="Keep Redis's files, the services' data and logs here.",
)
@click.option(
    "--forget",
    type=click.FloatRange(min=0),
    default=1.5,
    metavar="SECONDS",
    help="How much of its last writes Redis forgets in each forget fault.",
)
@click.option("--seed", type=int, default=7, help="Seed of the workload and fault schedule.")
@click.option(
    "--appendfsync",
    type=click.Choice(["always", "everysec", "off"]),
    default="everysec",
    help="Redis durability; 'off' (no append-only file) is expected to fail the check.",
)
def chaos(
    n: int,
    concurrency: int,
    kills_each: int,
    port_closed: float,
    claim_idle_ms: int,
    quiesce_timeout: float,
    workdir: Path | None,
    forget: float,
    seed: int,
    appendfsync: str,
) -> int:
    """Run the pipeline on a private Redis, post N stories while SIGKILLing each service,
    restarting Redis, closing its port and making it forget its last writes, then wait for
    quiet and count what was lost, duplicated, out of order or unexpected
    (docs/RELIABILITY.md).

    Exits 1 when any count is not zero, the pipeline never went quiet, or requests were
    refused; 3 when the pipeline could not be started.
    """
    from galley.chaos.__main__ import execute
    from galley.chaos.suite import Options

    return execute(
        Options(
            n=n,
            concurrency=concurrency,
            kills_each=kills_each,
            port_closed_s=port_closed,
            claim_idle_ms=claim_idle_ms,
            quiesce_timeout=quiesce_timeout,
            workdir=workdir,
            seed=seed,
            appendfsync=appendfsync,
            forget_s=forget,
        )
    )


@cli.command(short_help="Throughput and latency of the whole pipeline.")
@click.option(
    "--quick", is_flag=True, help="Short phases: 5 s per load, smaller archive and burst."
)
@click.option(
    "--ceiling-script",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    show_default="galley.bench.ceiling",
    help="transport_ceiling.py to measure the transport ceiling with.",
)
@click.option(
    "--archive",
    type=click.IntRange(min=0),
    metavar="N",
    show_default="10000; 2000 with --quick",
    help="Articles preloaded before measuring.",
)
@click.option(
    "--burst",
    type=click.IntRange(min=1),
    metavar="N",
    show_default="3000; 1000 with --quick",
    help="Submissions in the throughput burst.",
)
@click.option(
    "--rates",
    default="10,100,500",
    callback=int_list,
    metavar="N,N,...",
    help="Offered loads (articles per second) for the latency measurement.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0),
    show_default="20; 5 with --quick",
    metavar="SECONDS",
    help="How long each offered load lasts.",
)
@click.option(
    "--drain",
    type=click.FloatRange(min=0),
    default=30.0,
    metavar="SECONDS",
    help="How long to wait for stragglers after each load.",
)
@click.option(
    "--settle",
    type=click.FloatRange(min=0),
    default=120.0,
    metavar="SECONDS",
    help="Further time for an overloaded phase's backlog to clear.",
)
@click.option(
    "--backfill",
    type=click.IntRange(min=0),
    metavar="N",
    show_default="100000; 0 with --quick",
    help="Archived articles to backfill (0 skips the backfill).",
)
@click.option(
    "--backfill-timeout",
    type=click.FloatRange(min=0),
    default=240.0,
    metavar="SECONDS",
    help="How long the backfill may take before it is reported unfinished.",
)
@click.option(
    "--ceiling-n",
    type=click.IntRange(min=1),
    metavar="N",
    default=20000,
    help="Articles relayed for the transport ceiling.",
)
@click.option(
    "--relay-n",
    type=click.IntRange(min=1),
    metavar="N",
    default=5000,
    help="Articles for the naive relay.",
)
@click.option("--skip-transport", is_flag=True, help="Leave out the ceiling and naive relay.")
@click.option(
    "--skip-budget",
    is_flag=True,
    help="Leave out the work-only lower bound (galley.bench.budget).",
)
@click.option("--seed", type=int, default=7, help="Seed of the generated stories.")
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Use this data directory and keep it (logs, databases).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the figures to this JSON file.",
)
def bench(**options: Any) -> int:
    """Run ingest, enrichment and publish on a private Redis, preload an archive, then
    measure end-to-end throughput, latency at fixed offered loads (with where it goes,
    hop by hop) and a backfill, beside the transport ceiling, a naive relay and the
    pipeline's work-only CPU floor (docs/PERFORMANCE.md). Progress on stderr; the report
    on stdout."""
    import argparse

    from galley.bench import run as benching

    options["json"] = options.pop("json_path")
    return benching.execute(benching.defaults(argparse.Namespace(**options)))


# --- entry point -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """`galley ...`: run one command and return its exit code (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _command[:] = ["galley"]
    _last_redis_url.clear()
    try:
        result = cli.main(args=args, prog_name="galley", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("galley: interrupted", err=True)
        return 130
    except Unreachable as exc:
        click.echo(f"{_command[0]}: {exc}", err=True)
        return UNREACHABLE
    except (sync_redis.ConnectionError, sync_redis.TimeoutError) as exc:
        url = _last_redis_url[0] if _last_redis_url else DEFAULT_REDIS_URL
        click.echo(f"{_command[0]}: {redis_unreachable(url, exc)}", err=True)
        return UNREACHABLE
    return result if isinstance(result, int) else OK


if __name__ == "__main__":
    raise SystemExit(main())
