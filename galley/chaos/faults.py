"""Process control and the fault schedule: SIGKILL + restart services, restart Redis,
close Redis's port for a while, make Redis forget its last writes (SIGKILL plus an
append-only file cut back, as a host crash loses what was not fsynced yet); each fault
fires at a point in the workload."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field

import httpx
import redis.asyncio as aioredis

from galley.chaos.proxy import PortProxy
from galley.redis_server import RedisServer
from galley.supervisor import ServiceProcess


class Service(ServiceProcess):
    """One service as a child process (as `galley up` runs it) that can also be
    SIGKILLed and waited on until it is ready again."""

    def kill(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    async def ready(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if not self.alive():
                    return False
                try:
                    resp = await client.get(f"http://127.0.0.1:{self.port}/health/ready")
                    if resp.status_code < 300:
                        return True
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        return False


@dataclass(frozen=True)
class Fault:
    kind: str  # "kill" | "redis-restart" | "port-close" | "redis-forget"
    target: str


def schedule(services: list[str], *, kills_each: int = 3) -> list[Fault]:
    """Every service killed `kills_each` times; Redis restarted once after the first round,
    made to forget its last writes after every round but the first (after the only one,
    with one round), and its port closed once after the second (after the forget: the
    pipeline needs a few seconds to pick up again after the port opens, and Redis should
    forget seconds of full traffic)."""
    faults: list[Fault] = []
    for round_ in range(kills_each):
        faults += [Fault("kill", name) for name in services]
        if round_ == 0:
            faults.append(Fault("redis-restart", "redis"))
        if round_ >= 1 or kills_each == 1:
            faults.append(Fault("redis-forget", "redis"))
        if round_ == min(1, kills_each - 1):
            faults.append(Fault("port-close", "redis"))
    return faults


@dataclass
class FaultLog:
    started: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        line = f"[{stamp} +{time.monotonic() - self.started:6.1f}s] {text}"
        self.lines.append(line)
        print(line, flush=True)


class Injector:
    """Applies faults to the running pipeline."""

    def __init__(
        self,
        services: dict[str, Service],
        redis: RedisServer,
        proxy: PortProxy,
        log: FaultLog,
        *,
        port_closed_s: float = 10.0,
        forget_s: float = 1.5,
        streams: tuple[str, ...] = (),
    ) -> None:
        self.services = services
        self.redis = redis
        self.proxy = proxy
        self.log = log
        self.port_closed_s = port_closed_s
        self.forget_s = forget_s
        self.streams = streams  # whose lost entries a forget fault reports

    async def apply(self, fault: Fault, progress: str) -> None:
        if fault.kind == "kill":
            svc = self.services[fault.target]
            self.log.note(f"SIGKILL {fault.target} (pid {svc.proc and svc.proc.pid}) at {progress}")
            svc.kill()
            await asyncio.sleep(0.3)
            svc.start()
            ok = await svc.ready()
            self.log.note(
                f"  {fault.target} restarted (pid {svc.proc and svc.proc.pid}, ready={ok})"
            )
        elif fault.kind == "redis-restart":
            aof = f"AOF {self.redis.appendfsync}" if self.redis.appendonly else "no AOF"
            self.log.note(f"SIGKILL redis-server ({aof}) at {progress}")
            await asyncio.to_thread(self.redis.kill)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(self.redis.start)
            self.log.note(
                "  redis-server restarted on the same port"
                + (" from its AOF" if self.redis.appendonly else ", empty")
            )
        elif fault.kind == "redis-forget":
            await self._forget(progress)
        elif fault.kind == "port-close":
            self.log.note(f"close Redis's port for {self.port_closed_s:.0f}s at {progress}")
            await self.proxy.close()
            await asyncio.sleep(self.port_closed_s)
            await self.proxy.open()
            self.log.note("  Redis's port open again")

    async def _forget(self, progress: str) -> None:
        """SIGKILL Redis `forget_s` seconds after noting where its append-only file ends,
        cut the file back there and restart it: every write of those seconds is gone,
        though Redis acknowledged each (the workload runs on meanwhile). The port is shut
        from just before the kill until Redis is back, so the entries it forgot can be
        counted before anyone writes again."""
        if not self.redis.appendonly:
            self.log.note(f"SIGKILL redis-server (no AOF: it forgets everything) at {progress}")
            await asyncio.to_thread(self.redis.kill)
            await asyncio.to_thread(self.redis.start)
            self.log.note("  redis-server restarted on the same port, empty")
            return
        client = aioredis.from_url(self.redis.url)
        try:
            # No rewrite of the file inside the window (a restart restores the setting).
            await client.config_set("auto-aof-rewrite-percentage", 0)
            for _ in range(600):  # a rewrite already running: wait for it (up to a minute)
                info = await client.info("persistence")
                if not int(info.get("aof_rewrite_in_progress", 0)):
                    break
                await asyncio.sleep(0.1)
            mark = self.redis.aof_mark()
            self.log.note(
                f"Redis will forget the next {self.forget_s:.1f}s of writes"
                f" (AOF at {mark.size} bytes) at {progress}"
            )
            await asyncio.sleep(self.forget_s)
            await self.proxy.close()
            before = {s: int(await client.xlen(s)) for s in self.streams}
        finally:
            await client.aclose()
        try:
            cut = await asyncio.to_thread(self.redis.forget_since, mark)
            client = aioredis.from_url(self.redis.url)
            try:
                after = {s: int(await client.xlen(s)) for s in self.streams}
            finally:
                await client.aclose()
        finally:
            await self.proxy.open()
        lost = ", ".join(f"{before[s] - after[s]} on {s}" for s in self.streams)
        self.log.note(
            f"  redis-server SIGKILLed, {cut} bytes cut from its AOF, restarted; entries"
            f" forgotten: {lost or 'not counted'}"
        )
