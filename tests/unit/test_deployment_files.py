"""docker-compose.yml is checked here, since no Docker engine runs on these machines."""

from __future__ import annotations

import json
import re
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
    # the spec names draft 7 without the "#" jsonschema looks up drafts by
    jsonschema.validate(compose(), schema, cls=jsonschema.Draft7Validator)


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
    assert ops["ports"] == ["127.0.0.1:${OPS_PORT:-8005}:8005"]  # an admin port: this host only
    env = ops["environment"]
    assert (env["OPS_HOST"], env["OPS_PORT"]) == ("0.0.0.0", "8005")
    assert env["REDIS_URL"] == "redis://ops:${REDIS_OPS_PASSWORD}@redis:6379/0"
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
        public = name in ("ingest", "publish")  # newsroom systems and readers reach these
        bind = "" if public else "127.0.0.1:"
        assert svc["ports"] == [f"{bind}${{{name.upper()}_PORTS:-{port}}}:{port}"]
        assert svc["volumes"] == [f"{name}-data:/data"]  # replicas share the SQLite file


def acl_users() -> dict[str, str]:
    """The --user rules of compose's Redis, by user name (its variables left as written)."""
    command = compose()["services"]["redis"]["command"]
    words = re.sub(r"\$\{[^}]*\}", lambda m: m.group(0).replace(" ", "_"), command).split()
    users: dict[str, list[str]] = {}
    current: list[str] | None = None
    for i, word in enumerate(words):
        if word.startswith("--"):
            current = users.setdefault(words[i + 1], []) if word == "--user" else None
        elif current is not None:
            current.append(word)
    return {name: " ".join(rule[1:]) for name, rule in users.items()}


def test_redis_has_no_default_user_and_each_service_logs_in_as_its_own() -> None:
    users = acl_users()
    assert users["default"] == "off"
    services = compose()["services"]
    for name in ("ingest", "enrichment", "publish", "webhooks", "ops"):
        assert f">${{REDIS_{name.upper()}_PASSWORD" in users[name]
        assert "-@admin -@dangerous" in users[name]
        url = services[name]["environment"]["REDIS_URL"]
        assert url == f"redis://{name}:${{REDIS_{name.upper()}_PASSWORD}}@redis:6379/0"


def test_a_service_may_touch_only_its_own_streams() -> None:
    users = acl_users()
    assert "~articles.published" not in users["ingest"]
    assert "~newsroom.submissions" not in users["publish"]
    assert "~articles.ingested" not in users["webhooks"]
    assert "~*" not in users["webhooks"] and "~*" in users["ops"]
