"""docker-compose.yml is checked here, since no Docker engine runs on these machines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_file_validates_against_the_compose_specification() -> None:
    schema = json.loads((FIXTURES / "compose-spec.json").read_text())
    jsonschema.validate(compose(), schema)


def test_every_service_is_health_checked_and_waits_for_a_healthy_redis() -> None:
    services = compose()["services"]
    assert {"redis", "ingest", "enrichment", "publish", "webhooks", "ops"} <= set(services)
    for name, svc in services.items():
        assert "healthcheck" in svc, name
        if name != "redis":
            assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
            assert svc["command"][:2] == ["python", "-m"]
            module = "galley.opsweb" if name == "ops" else f"services.{name}"
            assert svc["command"][2] == module


def test_compose_starts_one_ops_page_that_asks_each_service_by_its_name() -> None:
    ops = compose()["services"]["ops"]
    assert ops["deploy"]["replicas"] == 1  # read-only and stateless: one is enough
    assert ops["ports"] == ["${OPS_PORT:-8005}:8005"]
    env = ops["environment"]
    assert (env["OPS_HOST"], env["OPS_PORT"]) == ("0.0.0.0", "8005")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    for name, port in (
        ("ingest", 8001),
        ("enrichment", 8002),
        ("publish", 8003),
        ("webhooks", 8004),
    ):
        assert env[f"{name.upper()}_URL"] == f"http://{name}:{port}"
    assert "8005/health/ready" in " ".join(ops["healthcheck"]["test"])


def test_redis_keeps_an_append_only_file_and_never_evicts() -> None:
    command = compose()["services"]["redis"]["command"]
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    assert "--maxmemory-policy noeviction" in command


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme
    assert "make test" in ci


def test_every_service_scales_with_galley_replicas_on_a_host_port_range_of_its_own() -> None:
    services = compose()["services"]
    for name, port in (
        ("ingest", 8001),
        ("enrichment", 8002),
        ("publish", 8003),
        ("webhooks", 8004),
    ):
        svc = services[name]
        assert svc["deploy"]["replicas"] == "${GALLEY_REPLICAS:-1}"
        assert svc["ports"] == [f"${{{name.upper()}_PORTS:-{port}}}:{port}"]
        assert svc["volumes"] == [f"{name}-data:/data"]  # replicas share the SQLite file
