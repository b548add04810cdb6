"""Where a webhook may point: http(s) only, and never at internal addresses unless an admin allowed them.

Checked when a webhook is created or changed AND before every delivery (DNS answers can change); the
delivery then connects to the very address that was checked, so a second lookup cannot swap it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from app.errors import BadRequest

MAX_URL_CHARS = 2048
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetNotAllowed(BadRequest):
    code = "WEBHOOK_TARGET_NOT_ALLOWED"


@dataclass(frozen=True)
class Target:
    url: SplitResult
    host: str  # as written in the URL, lowercased, no brackets
    port: int
    address: str  # the checked IP the delivery connects to


def allowed_list(setting: str) -> frozenset[str]:
    """WEBHOOK_ALLOWED_HOSTS as a set of lowercased host names and normalised IPs."""
    out: set[str] = set()
    for item in setting.split(","):
        item = item.strip().lower().strip("[]")
        if not item:
            continue
        try:
            out.add(str(ipaddress.ip_address(item)))
        except ValueError:
            out.add(item.rstrip("."))
    return frozenset(out)


def is_public(address: Address) -> bool:
    """False for loopback, private, link-local (cloud metadata lives there), multicast, reserved and the like."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def parse(url: str) -> tuple[SplitResult, str, int]:
    """Checks the URL's form; answers (parts, host, port)."""
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
        raise TargetNotAllowed(f"Webhook URL must be at most {MAX_URL_CHARS} characters")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise TargetNotAllowed("Webhook URL must use http or https")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise TargetNotAllowed("Webhook URL has an invalid port") from exc
    if not host:
        raise TargetNotAllowed("Webhook URL has no host")
    if parts.username or parts.password:
        raise TargetNotAllowed("Webhook URL must not carry credentials; use the signature to authenticate")
    return parts, host.lower().rstrip("."), port or (443 if parts.scheme == "https" else 80)


def choose(host: str, addresses: Iterable[str], allowed: frozenset[str]) -> str:
    """The first resolved address the rules allow; refuses when none is."""
    host_allowed = host in allowed
    refused: list[str] = []
    for raw in addresses:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        if host_allowed or str(address) in allowed or is_public(address):
            return str(address)
        refused.append(str(address))
    if not refused:
        raise TargetNotAllowed(f"Webhook host {host!r} does not resolve")
    raise TargetNotAllowed(
        f"Webhook target {host!r} resolves to an internal address ({refused[0]}); "
        "an administrator can allow it with WEBHOOK_ALLOWED_HOSTS"
    )


def _addresses(infos: Iterable[tuple[object, ...]]) -> list[str]:
    return list(dict.fromkeys(str(info[4][0]) for info in infos))  # type: ignore[index]


def resolve(url: str, allowed: frozenset[str]) -> Target:
    """Blocking check (creation time, in a worker thread)."""
    parts, host, port = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetNotAllowed(f"Webhook host {host!r} does not resolve") from exc
    return Target(parts, host, port, choose(host, _addresses(infos), allowed))


async def resolve_async(url: str, allowed: frozenset[str]) -> Target:
    """The same check on the event loop's resolver (delivery time)."""
    parts, host, port = parse(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetNotAllowed(f"Webhook host {host!r} does not resolve") from exc
    return Target(parts, host, port, choose(host, _addresses(infos), allowed))
