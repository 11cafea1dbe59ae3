"""`galley up` as an operator runs it: every service and the ops page, what it says, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from galley.redis_server import free_port
from tests.e2e.conftest import eventually

SERVICES = ("ingest", "enrichment", "publish", "webhooks")


class Up:
    def __init__(self, tmp_path: Path) -> None:
        self.ports = {name: free_port() for name in (*SERVICES, "ops")}
        self.redis_port = free_port()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"INGEST_API_KEYS", "REDIS_URL", "PUBLISH_BASE_URL"}
        }
        self.env.update({f"{name.upper()}_PORT": str(p) for name, p in self.ports.items()})
        self.out = tmp_path / "up.out"
        self.err = tmp_path / "up.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "galley.cli",
                    "up",
                    "--data-dir",
                    str(tmp_path / "data"),
                    "--redis-port",
                    str(self.redis_port),
                ],
                env=self.env,
                stdout=out,
                stderr=err,
            )

    def said(self) -> str:
        return self.out.read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path)
    try:
        eventually(
            lambda: "galley: ready" in running.said() or running.proc.poll() is not None,
            timeout=90,
            what=f"galley up to be ready ({running.out}, {running.err})",
        )
        yield running
    finally:
        running.stop()


def test_galley_up_starts_the_ops_page_says_who_may_post_and_stops_on_ctrl_c(up: Up) -> None:
    said = up.said()
    ops_url = f"http://127.0.0.1:{up.ports['ops']}/"
    assert "galley: ready" in said, up.err.read_text()
    assert f"ops page       {ops_url}" in said
    assert "Only loopback clients may post (INGEST_API_KEYS is not set)" in said

    assert httpx.get(f"{ops_url}health/ready", timeout=5).status_code == 204
    overview = httpx.get(f"{ops_url}api/overview", timeout=5).json()
    assert overview["health"] == dict.fromkeys(SERVICES, "ready")  # it found every service

    status = subprocess.run(
        [sys.executable, "-m", "galley.cli", "status", "--json"],
        capture_output=True,
        text=True,
        env={**up.env, "REDIS_URL": f"redis://127.0.0.1:{up.redis_port}/0"},
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["ok"] is True

    assert up.stop() == 0
    assert up.said().rstrip().endswith("galley: stopped")
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{ops_url}health/live", timeout=2)
