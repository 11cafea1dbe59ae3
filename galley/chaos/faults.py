"""Process control and the fault schedule: SIGKILL + restart services, restart Redis,
close Redis's port for a while; each fault fires at a point in the workload."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field

import httpx

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
    kind: str  # "kill" | "redis-restart" | "port-close"
    target: str


def schedule(services: list[str], *, kills_each: int = 3) -> list[Fault]:
    """Every service killed `kills_each` times; Redis restarted once after the first round,
    its port closed once after the second."""
    faults: list[Fault] = []
    for round_ in range(kills_each):
        faults += [Fault("kill", name) for name in services]
        if round_ == 0:
            faults.append(Fault("redis-restart", "redis"))
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
    ) -> None:
        self.services = services
        self.redis = redis
        self.proxy = proxy
        self.log = log
        self.port_closed_s = port_closed_s

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
        elif fault.kind == "port-close":
            self.log.note(f"close Redis's port for {self.port_closed_s:.0f}s at {progress}")
            await self.proxy.close()
            await asyncio.sleep(self.port_closed_s)
            await self.proxy.open()
            self.log.note("  Redis's port open again")
