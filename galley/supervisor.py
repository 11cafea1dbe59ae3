"""Run the pipeline on one machine: an embedded Redis and one process per service.

Used by `galley up`. Each service is started as `python -m services.<name>`,
so services stay separate processes exactly as in docker compose; with `ops_port`
the ops page (`python -m galley.opsweb`) runs beside them the same way. A process
that dies is restarted with a backoff. Ctrl-C (SIGINT) or SIGTERM stops the
services first, then Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from galley.redis_server import RedisServer

SERVICES: dict[str, int] = {"ingest": 8001, "enrichment": 8002, "publish": 8003, "webhooks": 8004}


@dataclass
class ServiceProcess:
    name: str
    port: int
    replica: int
    env: dict[str, str]
    log_path: Path
    module: str = ""  # run as `python -m MODULE`; default services.<name>
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0

    @property
    def label(self) -> str:
        name = "ops page" if self.name == "ops" else self.name
        return f"{name}#{self.replica}" if self.replica else name

    def start(self) -> None:
        # logs carry stories before publication and the sources posting them: owner only
        self.log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with open(fd, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module or f"services.{self.name}"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as resp:
            return bool(resp.status < 300)
    except OSError:
        return False


class Pipeline:
    """The whole pipeline as child processes of this one."""

    def __init__(
        self,
        data_dir: Path,
        *,
        redis_url: str | None,
        redis_port: int,
        replicas: int = 1,
        services: dict[str, int] | None = None,
        ops_port: int | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.redis: RedisServer | None = None
        if redis_url is None:
            self.redis = RedisServer(self.data_dir / "redis", redis_port)
            redis_url = self.redis.url
        self.redis_url = redis_url
        self.replicas = replicas
        self.services = services or SERVICES
        self.ops_port = ops_port  # also run the ops page there (None: not)
        self.procs: list[ServiceProcess] = []
        self._stopping = False

    def _env(self, name: str, port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                # a service may have a Redis user of its own (<NAME>_REDIS_URL, e.g. with
                # the ACL user of docker-compose.yml); else the pipeline's Redis
                "REDIS_URL": os.environ.get(f"{name.upper()}_REDIS_URL") or self.redis_url,
                "GALLEY_DATA_DIR": str(self.data_dir),
                # the service's own variable wins over GALLEY_DATA_DIR: set it too, so
                # `galley up --data-dir` is where every service keeps its files
                f"{name.upper()}_DATA_DIR": str(self.data_dir),
                f"{name.upper()}_PORT": str(port),
            }
        )
        # every absolute URL (pages, feeds, the answer to a post) names the site where
        # it really is: the publish port in use, unless the operator set the base URL
        publish = int(os.environ.get("PUBLISH_PORT", self.services.get("publish", 8003)))
        env.setdefault("PUBLISH_BASE_URL", f"http://127.0.0.1:{publish}")
        return env

    def port(self, name: str) -> int:
        """The service's port: `<NAME>_PORT`, else the one it was given."""
        return int(os.environ.get(f"{name.upper()}_PORT", self.services[name]))

    def start(self) -> None:
        if self.redis is not None:
            self.redis.start()
        for name in self.services:
            port = self.port(name)
            for replica in range(self.replicas):
                replica_port = port + 100 * replica
                proc = ServiceProcess(
                    name,
                    replica_port,
                    replica,
                    self._env(name, replica_port),
                    self.data_dir / "logs" / f"{name}-{replica}.log",
                )
                proc.start()
                self.procs.append(proc)
        if self.ops_port is not None:
            env = self._env("ops", self.ops_port)  # OPS_PORT, REDIS_URL, GALLEY_DATA_DIR
            env.update({f"{n.upper()}_PORT": str(self.port(n)) for n in self.services})
            ops = ServiceProcess(
                "ops",
                self.ops_port,
                0,
                env,
                self.data_dir / "logs" / "ops-page.log",
                module="galley.opsweb",
            )
            ops.start()
            self.procs.append(ops)

    def wait_healthy(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        pending = list(self.procs)
        while pending and time.monotonic() < deadline:
            pending = [p for p in pending if not healthy(p.port)]
            if pending:
                time.sleep(0.2)
        return not pending

    def supervise_once(self) -> None:
        """Restart any service that died, with a growing backoff."""
        now = time.monotonic()
        for p in self.procs:
            if p.alive() or self._stopping:
                continue
            if p.next_start == 0.0:
                delay = min(30.0, 0.5 * 2 ** min(p.restarts, 6))
                p.next_start = now + delay
                print(
                    f"galley: {p.label} exited; restarting in {delay:.1f}s (log: {p.log_path})",
                    flush=True,
                )
            elif now >= p.next_start:
                p.restarts += 1
                p.next_start = 0.0
                p.start()

    def stop(self) -> None:
        self._stopping = True
        for p in self.procs:
            if p.proc is not None and p.proc.poll() is None:
                p.proc.send_signal(signal.SIGTERM)
        for p in self.procs:
            p.stop()
        if self.redis is not None:
            self.redis.stop()
