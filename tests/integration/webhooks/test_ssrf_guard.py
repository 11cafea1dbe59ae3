"""The SSRF guard at registration and at delivery, with a stubbed resolver.

No test here opens a connection: names resolve through a dictionary and the
HTTP transport only records what it was asked to send.
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.webhooks.conftest import Harness, Start
from tests.polling import eventually
from tests.unit.webhooks.factories import event

pytestmark = pytest.mark.integration

PUBLIC = "93.184.215.14"


class StubDNS:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"unknown host {host}")
        return self.answers[host]


class RecordingTransport(httpx.AsyncBaseTransport):
    """Answers 200 without any network, remembering each request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200)


@pytest.fixture
def dns() -> StubDNS:
    return StubDNS(
        {
            "partner.example": [PUBLIC],
            "internal.example": ["10.0.0.5"],
            "mixed.example": [PUBLIC, "192.168.1.20"],
            "metadata.example": ["169.254.169.254"],
            "cgnat.example": ["100.64.3.4"],
            "mapped.example": ["::ffff:127.0.0.1"],
        }
    )


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
async def guarded(start_webhooks: Start, dns: StubDNS, transport: RecordingTransport) -> Harness:
    return await start_webhooks(
        allow_loopback=False, wiring={"resolver": dns, "transport": transport}
    )


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://127.0.0.1:6379/", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://0x7f000001/hook", "loopback"),
        ("http://2130706433/hook", "loopback"),
        ("http://017700000001/hook", "loopback"),
        ("http://127.1/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "IPv4-mapped loopback"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://internal.example/hook", "private address 10.0.0.5"),
        ("http://mixed.example/hook", "private address 192.168.1.20"),
        ("http://metadata.example/hook", "cloud metadata"),
        ("http://cgnat.example/hook", "CGNAT"),
        ("http://mapped.example/hook", "IPv4-mapped loopback"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://nowhere.example/hook", "does not resolve"),
    ],
)
async def test_a_url_reaching_an_internal_address_is_refused_at_registration(
    guarded: Harness, transport: RecordingTransport, url: str, reason: str
) -> None:
    response = await guarded.http.post("/v1/subscriptions", json={"url": url})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.json()["detail"]
    assert transport.requests == []


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://partner.example/hook", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://user:pw@partner.example/hook", "credentials"),
        ("http:///hook", "no host"),
        ("http://partner.example:99999/hook", "port"),
    ],
)
async def test_a_url_that_is_not_a_plain_http_url_is_a_422(
    guarded: Harness, url: str, reason: str
) -> None:
    response = await guarded.http.post("/v1/subscriptions", json={"url": url})
    assert response.status_code == 422
    assert reason in response.json()["detail"]


async def test_numeric_hosts_are_read_without_asking_dns(guarded: Harness, dns: StubDNS) -> None:
    await guarded.http.post("/v1/subscriptions", json={"url": "http://0x7f000001/hook"})
    assert dns.asked == []


async def test_delivery_connects_to_the_checked_address_with_the_original_host_header(
    guarded: Harness, transport: RecordingTransport
) -> None:
    sub = await guarded.subscribe("http://partner.example:8080/hook?k=1")
    await guarded.publish(event())
    [entry] = await guarded.settled(sub["id"], 1)

    assert entry["state"] == "delivered"
    [request] = transport.requests
    assert str(request.url) == f"http://{PUBLIC}:8080/hook?k=1"
    assert request.headers["host"] == "partner.example:8080"


async def test_a_name_that_now_resolves_inside_is_refused_at_delivery_without_connecting(
    guarded: Harness, dns: StubDNS, transport: RecordingTransport
) -> None:
    sub = await guarded.subscribe("http://partner.example/hook")
    dns.answers["partner.example"] = ["10.0.0.5"]  # DNS rebinding after registration
    await guarded.publish(event())

    async def attempted() -> list[dict[str, object]] | None:
        entries = await guarded.log(sub["id"])
        return entries if entries and entries[0]["attempts"] >= 1 else None

    [entry] = await eventually(attempted)
    assert "refused by the SSRF guard" in entry["last_error"]
    assert "private address 10.0.0.5" in entry["last_error"]
    assert entry["last_status"] is None
    assert transport.requests == []


async def test_allow_loopback_admits_loopback_but_not_private_or_metadata(
    start_webhooks: Start, dns: StubDNS
) -> None:
    harness = await start_webhooks(allow_loopback=True, wiring={"resolver": dns})
    ok = await harness.http.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"})
    private = await harness.http.post(
        "/v1/subscriptions", json={"url": "http://internal.example/hook"}
    )
    metadata = await harness.http.post("/v1/subscriptions", json={"url": "http://169.254.169.254/"})
    assert (ok.status_code, private.status_code, metadata.status_code) == (201, 400, 400)
