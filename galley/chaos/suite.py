"""Run the chaos suite: pipeline up, workload + fault schedule, quiescence, checker."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis as sync_redis
import redis.asyncio as aioredis

from galley.chaos.checker import Report, check, read_final_state, read_published
from galley.chaos.faults import Fault, FaultLog, Injector, Service, schedule
from galley.chaos.proxy import PortProxy
from galley.chaos.workload import Driver, Ledger, plan
from galley.redis_server import RedisServer, free_port
from shared import names
from shared.infra.streams import text

SERVICES = ["ingest", "enrichment", "publish", "webhooks"]
WATCHED = [
    names.ARTICLES_INGESTED,
    names.AUTHORS_UPDATED,
    names.ARTICLES_ENRICHED,
    names.ARTICLES_PUBLISHED,
]


@dataclass
class Options:
    n: int = 500
    concurrency: int = 16
    kills_each: int = 3
    port_closed_s: float = 10.0
    claim_idle_ms: int = 5000
    quiesce_timeout: float = 600.0
    workdir: Path | None = None
    seed: int = 7
    appendfsync: str = "everysec"  # "always", "everysec", or "off" (no AOF: must fail)
    forget_s: float = 1.5  # how much of its last writes Redis forgets in a forget fault
    env: dict[str, str] = field(default_factory=dict)  # extra environment of the services


@dataclass
class Outcome:
    report: Report
    ledger: Ledger
    faults: list[str]
    quiesced: bool
    dead_letters: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Pacer:
    """Holds the workload at each fault's point until that fault has been injected."""

    def __init__(self, total: int, faults: list[Fault]) -> None:
        self.done = 0
        self.total = total
        self.points = [total * (k + 1) // (len(faults) + 1) for k in range(len(faults))]
        self.faults = faults
        self.next = 0
        self.injected = asyncio.Event()
        self.due = asyncio.Event()

    def progress(self) -> None:
        self.done += 1
        if self.next < len(self.points) and self.done >= self.points[self.next]:
            self.due.set()

    async def admit(self) -> None:
        while self.next < len(self.points) and self.done >= self.points[self.next]:
            self.due.set()
            await self.injected.wait()

    async def run(self, injector: Injector, workload: asyncio.Task[Any]) -> None:
        while self.next < len(self.faults):
            if not workload.done():
                await _first(self.due.wait(), workload)
            self.due.clear()
            fault = self.faults[self.next]
            self.next += 1
            self.injected.set()  # let the workload run on during the fault
            self.injected = asyncio.Event()
            await injector.apply(fault, f"{self.done}/{self.total} requests")


async def _first(aw: Any, task: asyncio.Task[Any]) -> None:
    waiter = asyncio.ensure_future(aw)
    await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()


def _env(
    name: str,
    port: int,
    redis_url: str,
    data_dir: Path,
    claim_idle_ms: int,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "REDIS_URL": redis_url,
            "GALLEY_DATA_DIR": str(data_dir),
            f"{name.upper()}_PORT": str(port),
            f"{name.upper()}_HOST": "127.0.0.1",
            "INGEST_RATE_PER_SECOND": "1000000",
            "INGEST_RATE_BURST": "1000000",
            "GALLEY_CLAIM_IDLE_MS": str(claim_idle_ms),  # every service's consumers
        }
    )
    env.update(extra or {})
    return env


def _db_count(path: Path, sql: str) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise
    finally:
        conn.close()


def _id(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


async def backlog(redis: aioredis.Redis, data_dir: Path) -> list[str]:
    """What is still moving: unsent outbox rows, unread or pending stream entries, held items."""
    busy: list[str] = []
    for svc in ("ingest", "enrichment", "publish", "webhooks"):
        unsent = _db_count(
            data_dir / f"{svc}.db", "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"
        )
        if unsent:
            busy.append(f"{svc} outbox {unsent}")
    held = _db_count(
        data_dir / "publish.db", "SELECT COUNT(*) FROM articles WHERE held IS NOT NULL"
    )
    if held:
        busy.append(f"publish held {held}")
    for stream in WATCHED:
        last = await redis.xrevrange(stream, count=1)
        if not last:
            continue
        last_id = _id(text(last[0][0]))
        for group in await redis.xinfo_groups(stream):
            name = text(group["name"])
            if int(group["pending"]) or _id(text(group["last-delivered-id"])) < last_id:
                busy.append(f"{stream}/{name} pending={group['pending']}")
    return busy


async def wait_quiet(
    redis: aioredis.Redis,
    data_dir: Path,
    services: dict[str, Service],
    timeout: float,
    log: FaultLog,
) -> bool:
    deadline = time.monotonic() + timeout
    quiet_rounds = 0
    last_note = 0.0
    while time.monotonic() < deadline:
        try:
            busy = await backlog(redis, data_dir)
        except Exception as exc:  # a DB busy for a moment: try again
            busy = [f"probe failed: {exc}"]
        dead = [name for name, s in services.items() if not s.alive()]
        busy += [f"{name} not running" for name in dead]
        quiet_rounds = quiet_rounds + 1 if not busy else 0
        if quiet_rounds >= 3:
            return True
        if busy and time.monotonic() - last_note > 10:
            last_note = time.monotonic()
            log.note(f"waiting for quiescence: {', '.join(busy[:6])}")
        await asyncio.sleep(1.0)
    return False


async def run(opts: Options) -> Outcome:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="galley-chaos-") as tmp:
        work = (opts.workdir or Path(tmp)).resolve()
        data_dir = work / "data"
        aof = opts.appendfsync != "off"
        redis_server = RedisServer(
            work / "redis",
            free_port(),
            appendonly=aof,
            appendfsync=opts.appendfsync if aof else "everysec",
        )
        redis_server.start()
        proxy = PortProxy(free_port(), redis_server.port)
        await proxy.open()
        url = f"redis://127.0.0.1:{proxy.port}/0"
        services = {
            name: Service(
                name=name,
                port=port,
                replica=0,
                env=_env(name, port, url, data_dir, opts.claim_idle_ms, opts.env),
                log_path=work / "logs" / f"{name}.log",
            )
            for name, port in ((n, free_port()) for n in SERVICES)
        }
        direct = aioredis.from_url(redis_server.url)
        log = FaultLog()
        try:
            return await _drive(opts, services, redis_server, proxy, direct, data_dir, log, started)
        finally:
            for svc in services.values():
                svc.stop()
            await proxy.close()
            await direct.aclose()
            redis_server.stop()


async def _drive(
    opts: Options,
    services: dict[str, Service],
    redis_server: RedisServer,
    proxy: PortProxy,
    direct: aioredis.Redis,
    data_dir: Path,
    log: FaultLog,
    started: float,
) -> Outcome:
    for svc in services.values():
        svc.start()
    for svc in services.values():
        if not await svc.ready():
            raise RuntimeError(f"{svc.name} did not start; see {svc.log_path}")
    log.note(
        f"pipeline up: redis :{redis_server.port} behind proxy :{proxy.port}, "
        + ", ".join(f"{s.name} :{s.port}" for s in services.values())
    )
    authors, stories, changes = plan(opts.n, run=uuid.uuid4().hex[:8], seed=opts.seed)
    total = len(authors) + sum(len(c) for c in stories) + len(changes)
    faults = schedule(SERVICES, kills_each=opts.kills_each)
    pacer = Pacer(total, faults)
    ledger = Ledger()
    driver = Driver(
        f"http://127.0.0.1:{services['ingest'].port}",
        ledger,
        concurrency=opts.concurrency,
        on_progress=pacer.progress,
        admit=pacer.admit,
    )
    log.note(f"workload: {opts.n} stories, {total} requests, {len(faults)} faults")
    workload = asyncio.create_task(driver.run(authors, stories, changes))
    injector = Injector(
        services,
        redis_server,
        proxy,
        log,
        port_closed_s=opts.port_closed_s,
        forget_s=opts.forget_s,
        streams=tuple(WATCHED),
    )
    await pacer.run(injector, workload)
    await workload
    log.note(
        f"workload done: {ledger.acknowledged} acknowledged, {driver.retries} retries,"
        f" {len(ledger.refused)} refused, {ledger.gave_up} gave up"
    )
    quiet = await wait_quiet(direct, data_dir, services, opts.quiesce_timeout, log)
    log.note("quiescent" if quiet else "NOT quiescent before the deadline")
    client = sync_redis.Redis.from_url(redis_server.url)
    try:
        events = read_published(client)
        dead = {text(k): int(client.xlen(k)) for k in client.scan_iter("dlq.*")}
    finally:
        client.close()
    report = check(ledger, read_final_state(data_dir / "publish.db"), events)
    return Outcome(report, ledger, log.lines, quiet, dead, time.monotonic() - started)
