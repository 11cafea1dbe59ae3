"""Every refusal of the HTTP door is RFC 9457 problem+json with the right status."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.ingest.store import IngestStore
from tests.unit.ingest.conftest import ARC, SUPERDESK, AppFactory, Clock, client_for, queued

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("/problems/")
    assert "Traceback" not in response.text
    return body


async def test_a_missing_api_key_gets_401_with_a_bearer_challenge(
    client: httpx.AsyncClient, seed_article: dict
) -> None:
    response = await client.post("/v1/articles", json=seed_article)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_wrong_api_key_gets_401(client: httpx.AsyncClient, seed_article: dict) -> None:
    response = await client.post(
        "/v1/articles", json=seed_article, headers={"Authorization": "Bearer not-a-key"}
    )
    assert_problem(response, 401)


async def test_without_configured_keys_loopback_clients_may_post_and_others_may_not(
    make_app: AppFactory, seed_article: dict, store: IngestStore
) -> None:
    app = make_app(api_keys="")
    async with client_for(app, ("127.0.0.1", 4000)) as local:
        assert (await local.post("/v1/articles", json=seed_article)).status_code == 202
    async with client_for(app, ("203.0.113.9", 4000)) as remote:
        assert_problem(await remote.post("/v1/articles", json=seed_article), 403)
    assert (await queued(store))[0]["data"]["source"] == "local"


async def test_malformed_json_gets_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/articles",
        content=b'{"uri": "x",',
        headers={**SUPERDESK, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400)
    assert "line 1" in body["detail"]


async def test_a_body_that_is_not_utf8_gets_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/articles",
        content=b'{"uri": "\xff"}',
        headers={**SUPERDESK, "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


async def test_json_nested_100k_deep_gets_400_and_the_worker_keeps_serving(
    client: httpx.AsyncClient, seed_article: dict
) -> None:
    deep = b'{"uri": "x", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = await client.post(
        "/v1/articles", content=deep, headers={**SUPERDESK, "Content-Type": "application/json"}
    )
    body = assert_problem(response, 400)
    assert "nests deeper" in body["detail"]
    assert (
        await client.post("/v1/articles", json=seed_article, headers=SUPERDESK)
    ).status_code == 202


async def test_brackets_inside_strings_do_not_count_as_nesting(
    client: httpx.AsyncClient, seed_article: dict
) -> None:
    seed_article["ednote"] = "[[[[" * 100 + '\\"{{{{' * 100
    response = await client.post("/v1/articles", json=seed_article, headers=SUPERDESK)
    assert response.status_code == 202


async def test_a_body_declared_over_the_limit_gets_413_before_it_is_read(
    make_app: AppFactory,
) -> None:
    async with client_for(make_app(max_body_bytes=1024)) as client:
        response = await client.post(
            "/v1/articles",
            content=b"x" * 50_000,
            headers={**SUPERDESK, "Content-Type": "application/json"},
        )
    assert_problem(response, 413)


async def test_a_chunked_body_over_the_limit_gets_413_without_reading_all_of_it(
    make_app: AppFactory,
) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(200):
            sent.append(i)
            yield b" " * 64 * 1024

    async with client_for(make_app(max_body_bytes=1024 * 1024)) as client:
        response = await client.post(
            "/v1/articles",
            content=chunks(),
            headers={**SUPERDESK, "Content-Type": "application/json"},
        )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_problem(response, 413)
    assert len(sent) < 200  # the reader stopped once over the limit


async def test_a_wrong_content_type_gets_415(client: httpx.AsyncClient, seed_article: dict) -> None:
    response = await client.post(
        "/v1/articles",
        content=json.dumps(seed_article),
        headers={**SUPERDESK, "Content-Type": "text/plain"},
    )
    assert_problem(response, 415)


async def test_a_json_subtype_content_type_is_accepted(
    client: httpx.AsyncClient, seed_article: dict
) -> None:
    response = await client.post(
        "/v1/articles",
        content=json.dumps(seed_article),
        headers={**SUPERDESK, "Content-Type": "application/ninjs+json; charset=utf-8"},
    )
    assert response.status_code == 202


async def test_schema_errors_get_422_with_a_pointer_to_each_bad_field(
    client: httpx.AsyncClient, seed_article: dict
) -> None:
    seed_article["version"] = True
    seed_article["headlines"][0]["value"] = ["not", "text"]
    seed_article["embargoed"] = "2025-02-05T09:00:00"
    response = await client.post("/v1/articles", json=seed_article, headers=SUPERDESK)
    body = assert_problem(response, 422)
    assert [e["pointer"] for e in body["errors"]] == [
        "/version",
        "/embargoed",
        "/headlines/0/value",
    ]
    assert all(e["detail"] for e in body["errors"])


async def test_a_source_over_its_rate_gets_429_with_retry_after_while_others_go_on(
    make_app: AppFactory, seed_article: dict, clock: Clock
) -> None:
    async with client_for(make_app(rate_burst=2, rate_per_second=0.5)) as client:
        for _ in range(2):
            ok = await client.post("/v1/articles", json=seed_article, headers=SUPERDESK)
            assert ok.status_code in (200, 202)
        limited = await client.post("/v1/articles", json=seed_article, headers=SUPERDESK)
        assert_problem(limited, 429)
        assert limited.headers["retry-after"] == "2"
        other = await client.post("/v1/articles", json=seed_article, headers=ARC)
        assert other.status_code == 200  # the same story again: a no-op, but not limited
        clock.advance(seconds=2)
        again = await client.post("/v1/articles", json=seed_article, headers=SUPERDESK)
        assert again.status_code == 200


async def test_unknown_paths_and_methods_get_problem_json(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v2/nothing"), 404)
    assert_problem(await client.put("/v1/articles", json={}), 405)
    assert_problem(await client.get("/v1/articles/unknown", headers=SUPERDESK), 404)


async def test_an_unexpected_failure_gets_a_500_problem_without_a_stack_trace(
    make_app: AppFactory, seed_article: dict
) -> None:
    app = make_app()
    app.state.store = object()  # anything the handler will trip over
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/v1/articles", json=seed_article, headers=SUPERDESK)
    body = assert_problem(response, 500)
    assert "object" not in body["detail"]
