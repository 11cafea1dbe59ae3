"""The URL guard's address rules, with a stubbed resolver (no network)."""

from __future__ import annotations

import ipaddress

import pytest

from services.webhooks import ssrf


async def resolve_to(*addresses: str) -> ssrf.Resolver:
    async def resolver(_host: str, _port: int) -> list[str]:
        return list(addresses)

    return resolver


@pytest.mark.parametrize(
    "host, ip",
    [
        ("0x7f000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("::1", "::1"),
    ],
)
def test_numeric_spellings_of_an_address_are_normalized(host: str, ip: str) -> None:
    assert ssrf.numeric_host(host) == ipaddress.ip_address(ip)


def test_a_host_name_is_not_a_numeric_host() -> None:
    assert ssrf.numeric_host("bad.cafe") is None


@pytest.mark.parametrize(
    "ip, label",
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("fc00::1", "private"),
        ("fe80::1", "link-local"),
        ("::ffff:10.0.0.1", "IPv4-mapped private"),
        ("fd00:ec2::254", "metadata"),
        ("2002:7f00:1::", "6to4 loopback"),
        ("2002:a9fe:a9fe::", "6to4 cloud metadata"),
        ("2002:c0a8:101::", "6to4 private"),
        ("2001:0:5db8:d70e::80ff:fffe", "Teredo loopback"),
        ("64:ff9b::a00:1", "NAT64 private"),
        ("::7f00:1", "IPv4-compatible loopback"),
        ("fe80::5efe:a00:1", "ISATAP private"),
        ("2001:db8:1::5efe:a9fe:a9fe", "ISATAP cloud metadata"),
        ("192.0.0.192", "IETF protocol assignment"),
    ],
)
def test_internal_addresses_are_refused_with_their_kind(ip: str, label: str) -> None:
    reason = ssrf.refusal(ipaddress.ip_address(ip))
    assert reason is not None and label in reason


def test_public_addresses_are_allowed() -> None:
    assert ssrf.refusal(ipaddress.ip_address("93.184.215.14")) is None
    assert ssrf.refusal(ipaddress.ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")) is None


def test_allow_loopback_allows_loopback_only() -> None:
    assert ssrf.refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert ssrf.refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None
    assert ssrf.refusal(ipaddress.ip_address("10.0.0.5"), allow_loopback=True)
    assert ssrf.refusal(ipaddress.ip_address("169.254.169.254"), allow_loopback=True)


async def test_check_refuses_when_any_resolved_address_is_internal() -> None:
    with pytest.raises(ssrf.RefusedAddress, match=r"private address 10\.0\.0\.5"):
        await ssrf.check("https://partner.example/", await resolve_to("93.184.215.14", "10.0.0.5"))


async def test_check_returns_the_address_to_connect_to() -> None:
    target = await ssrf.check("https://partner.example/x", await resolve_to("93.184.215.14"))
    assert (target.host, target.port, target.address) == ("partner.example", 443, "93.184.215.14")


@pytest.mark.parametrize(
    "url",
    [
        "gopher://partner.example/",
        "http://a@partner.example/",
        "http://",
        "http://x:0/",
        "http://partner.example/ hook",
        "http://partner.example:abc/",
    ],
)
async def test_unusable_urls_are_bad_urls(url: str) -> None:
    with pytest.raises(ssrf.BadURL):
        await ssrf.check(url, await resolve_to("93.184.215.14"))


@pytest.mark.parametrize("ip", ["2002:5db8:d70e::1", "::ffff:93.184.215.14", "2606:4700::1111"])
def test_public_addresses_in_ipv6_forms_are_allowed(ip: str) -> None:
    assert ssrf.refusal(ipaddress.ip_address(ip)) is None
