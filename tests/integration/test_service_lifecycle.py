"""The service builder's lifecycle, on a real Redis: alive while it runs, and a process
whose parts are closed says so (a liveness probe then restarts it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from services.webhooks.app import create_app
from services.webhooks.settings import Settings
from tests.serving import serving

pytestmark = pytest.mark.integration


async def test_liveness_holds_while_the_service_runs_and_fails_once_its_parts_are_closed(
    redis_server: Any, tmp_path: Path
) -> None:
    app = create_app(Settings(redis_url=redis_server.url, data_dir=tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        async with serving(app):
            assert (await client.get("/health/live")).status_code == 204
            assert (await client.get("/health/ready")).status_code == 204
            runtime = app.state.runtime
            assert runtime.running is not None and not runtime.closed
        assert (await client.get("/health/live")).status_code == 503
        assert (await client.get("/health/ready")).status_code == 503
