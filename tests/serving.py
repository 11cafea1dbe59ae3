"""Run a service's app in-process as a server would: its ASGI lifespan in a task of its
own, until the service says it is ready (its broker's readers run)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx


@asynccontextmanager
async def serving(app: Any, *, timeout: float = 30.0) -> AsyncIterator[Any]:
    """Start the app's lifespan, wait for /health/ready, and shut it down afterwards."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    said: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, said.put)
    )
    started = await asyncio.wait_for(said.get(), timeout)
    if started["type"] != "lifespan.startup.complete":
        task.cancel()
        raise RuntimeError(f"the app did not start: {started.get('message', started)}")
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ready") as client:
            deadline = asyncio.get_running_loop().time() + timeout
            while (await client.get("/health/ready")).status_code != 204:
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("the service never became ready")
                await asyncio.sleep(0.02)
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, timeout)
