"""The SSRF guard: which webhook URLs may be called, and at which address.

A URL is checked at registration and again before every attempt: the host is
resolved (numeric spellings such as `0x7f000001`, `2130706433` or
`017700000001` are read as the IPv4 address they mean, never sent to DNS) and
every address must be a public one. The attempt then connects to the address
that was checked, so a DNS answer that changes in between cannot redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_LENGTH = 2048
METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
IETF_ASSIGNMENTS = ipaddress.ip_network("192.0.0.0/24")  # protocol assignments, never a web host
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


class BadURL(ValueError):
    """The URL itself is unusable for a webhook (422)."""


class RefusedAddress(ValueError):
    """The URL points at an address webhooks must never call (400)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect and what to call it."""

    url: str
    host: str  # as written in the URL (Host header, TLS server name)
    port: int
    address: str  # the checked IP to connect to


def parse(url: str) -> SplitResult:
    """Check the URL's shape: http(s), a host, no credentials."""
    if len(url) > MAX_URL_LENGTH:
        raise BadURL(f"URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise BadURL("URL contains whitespace or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadURL("URL scheme must be http or https")
    if "@" in parts.netloc:
        raise BadURL("URL must not contain credentials (user@host)")
    try:
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"URL port is invalid: {exc}") from None
    if not parts.hostname:
        raise BadURL("URL has no host")
    if port == 0:
        raise BadURL("URL port is invalid: 0")
    return parts


def numeric_host(host: str) -> IP | None:
    """The IP a host names by itself, including inet_aton spellings (hex, octal, short)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, list[ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries inside it, and the form that carries
    them: IPv4-mapped, 6to4, Teredo (its server and its client), NAT64, IPv4-compatible,
    ISATAP. A router on the way may deliver to that IPv4 address."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return "6to4", [ip.sixtofour]
    if ip.teredo is not None:
        return "Teredo", list(ip.teredo)
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in NAT64):
        return "NAT64", [low32]
    if ip in IPV4_COMPATIBLE and int(ip) > 1:  # not :: or ::1
        return "IPv4-compatible", [low32]
    if (int(ip) >> 32) & 0xFDFFFFFF == 0x00005EFE:  # interface id ::0:5efe:a.b.c.d (or 200:)
        return "ISATAP", [low32]
    return "", []


def refusal(ip: IP, *, allow_loopback: bool = False) -> str | None:
    """Why an address may not be called, or None when it may. An IPv6 address that
    carries an IPv4 address is judged by that IPv4 address too."""
    if isinstance(ip, ipaddress.IPv6Address):
        form, inner = embedded_ipv4(ip)
        for v4 in inner:
            reason = refusal(v4, allow_loopback=allow_loopback)
            if reason:
                return f"{form} {reason}"
        if form == "IPv4-mapped":
            return None
    checks: list[tuple[bool, str]] = [
        (ip in METADATA, "cloud metadata address"),
        (
            isinstance(ip, ipaddress.IPv4Address) and ip in IETF_ASSIGNMENTS,
            "IETF protocol assignment address",
        ),
        (ip.is_loopback, "loopback address"),
        (ip.is_unspecified, "unspecified address"),
        (ip.is_link_local, "link-local address"),
        (ip.is_multicast, "multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT, "shared (CGNAT) address"),
        (ip.is_reserved, "reserved address"),
        (ip.is_private, "private address"),
        (not ip.is_global, "non-public address"),
    ]
    for hit, label in checks:
        if hit:
            if label == "loopback address" and allow_loopback:
                return None
            return f"{label} {ip}"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the OS resolver (getaddrinfo), all address families."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check(url: str, resolver: Resolver, *, allow_loopback: bool = False) -> Target:
    """Validate and resolve a URL; raise BadURL or RefusedAddress, else the Target."""
    parts = parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = numeric_host(host)
    if literal is not None:
        addresses: list[IP] = [literal]
    else:
        try:
            answers = await resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise RefusedAddress(f"host {host!r} does not resolve: {exc}") from None
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in answers]
        if not addresses:
            raise RefusedAddress(f"host {host!r} does not resolve")
    for ip in addresses:
        reason = refusal(ip, allow_loopback=allow_loopback)
        if reason:
            raise RefusedAddress(f"host {host!r} resolves to a {reason}")
    return Target(url=url, host=host, port=port, address=str(addresses[0]))
