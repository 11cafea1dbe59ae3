"""A tiny HTTP receiver on 127.0.0.1 that answers what a test tells it to (and records all)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow endpoint)
    gate: asyncio.Event | None = None  # answer only once the test sets it


Script = Callable[[Received, int], Reply]  # (request, how many came before it on this path)

REASONS = {
    200: "OK",
    204: "No Content",
    302: "Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Receiver:
    """Records every request per path and answers with `script(request, n)`."""

    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script or (lambda _req, _n: Reply())
        self.requests: list[Received] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            request = await self._read(reader)
            n = len(self.on(request.path))
            self.requests.append(request)
            reply = self.script(request, n)
            if reply.delay:
                await asyncio.sleep(reply.delay)
            if reply.gate is not None:
                await reply.gate.wait()
            head = [
                f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}",
                "content-length: 0",
                "connection: close",
                *(f"{k}: {v}" for k, v in reply.headers.items()),
            ]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Received:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        _method, path, _version = head[0].split(" ", 2)
        headers = {}
        for line in head[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Received(path, headers, body)
