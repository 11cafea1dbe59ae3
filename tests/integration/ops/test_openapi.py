"""Every service describes its HTTP API at /openapi.json (OpenAPI 3.x)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

OPS = {"/health/live": "get", "/health/ready": "get", "/metrics": "get"}
DOCUMENTED: dict[str, dict[str, str]] = {
    "ingest": {"/v1/articles": "post", "/v1/authors": "post", "/v1/articles/{key}": "get"},
    "enrichment": {"/v1/related": "get", "/v1/authors": "get", "/v1/authors/unknown": "get"},
    "publish": {"/v1/articles/{slug}": "get", "/articles/{slug}": "get", "/": "get"},
    "webhooks": {
        "/v1/subscriptions": "post",
        "/v1/subscriptions/{sub_id}": "delete",
        "/v1/subscriptions/{sub_id}/deliveries": "get",
    },
}


def _app(service: str, data_dir: Path) -> FastAPI:
    import importlib

    app_module = importlib.import_module(f"services.{service}.app")
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings = settings_module.Settings(data_dir=data_dir)
    app: FastAPI = app_module.create_app(settings)
    return app


@pytest.mark.parametrize("service", sorted(DOCUMENTED))
async def test_each_service_serves_an_openapi_document_with_its_documented_endpoints(
    service: str, tmp_path: Path
) -> None:
    transport = httpx.ASGITransport(app=_app(service, tmp_path))  # no lifespan: no Redis
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        resp = await client.get("/openapi.json")

    assert resp.status_code == 200
    doc: dict[str, Any] = resp.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == f"galley {service}"
    for path, method in {**DOCUMENTED[service], **OPS}.items():
        assert method in doc["paths"].get(path, {}), f"{service}: {method.upper()} {path}"
