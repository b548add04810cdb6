"""Headless Chromium for page captures, fenced off from the host's network.

Chromium never talks to the network itself. Every request it makes (document, redirect hop,
sub-resource, XHR) is intercepted; Python checks the URL (http/https only), resolves the host,
refuses it if any address is loopback, private, link-local, CGNAT, multicast, unspecified or
reserved (IPv4 and IPv6, IPv4-mapped included), then fetches it itself from the address it just
checked (so a DNS answer can't change between the check and the connection: no rebinding) and
hands the bytes to Chromium. Redirects come back to Chromium as 3xx answers, so every hop is
intercepted and checked again. As a backstop the browser is pointed at a dead proxy, so anything
that escaped interception fails instead of connecting; WebSockets are closed, service workers
blocked, and WebRTC may not use non-proxied UDP.

HTML_TO_IMAGE_ALLOW_HOSTS (comma-separated host:port pairs, default empty) lets an administrator
allow exact intranet hosts past the address check (they are still resolved and pinned).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import http.client
import ipaddress
import logging
import os
import socket
import ssl
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

log = logging.getLogger("lutra.browser")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--dns-prefetch-disable",
    "--disable-dev-shm-usage",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
]
# Nothing listens on the discard port: whatever Chromium would fetch on its own goes nowhere.
DEAD_PROXY = "http://127.0.0.1:9"
ALLOW_HOSTS_ENV = "HTML_TO_IMAGE_ALLOW_HOSTS"
MAX_PAGES_ENV = "HTML_TO_IMAGE_MAX_PAGES"

MAX_RESOURCE_BYTES = 15 * 1024 * 1024
MAX_TOTAL_BYTES = 60 * 1024 * 1024
MAX_REQUESTS = 500
FETCH_TIMEOUT_S = 10.0
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "upgrade"}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class Blocked(Exception):
    """A URL the capture may not reach; the message says why, for the client."""


# --- addresses -----------------------------------------------------------------------------------


def address_allowed(address: str) -> bool:
    """True only for globally routable unicast addresses (checked through IPv4-in-IPv6 forms too)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not address_allowed(str(embedded)):
            return False
        if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64: the last 32 bits are an IPv4 address
            return address_allowed(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    if ip.version == 4 and ip in _CGNAT:
        return False
    return bool(
        ip.is_global
        and not (ip.is_multicast or ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_unspecified)
        and not ip.is_reserved
    )


def allowed_hosts() -> set[str]:
    """The administrator's host:port exceptions, normalised (lower case, IPv6 in brackets)."""
    raw = os.environ.get(ALLOW_HOSTS_ENV, "")
    return {item.strip().lower() for item in raw.split(",") if item.strip()}


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # without brackets
    port: int

    @property
    def host_port(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse_target(url: str) -> Target:
    """Scheme, host and port of an http(s) URL; anything else is Blocked."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Blocked("the URL is not valid") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Blocked("only http and https URLs can be captured")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise Blocked("the URL has no host")
    if parts.username or parts.password:
        raise Blocked("URLs with credentials are not accepted")
    return Target(scheme, host, port or (443 if scheme == "https" else 80))


def resolve(target: Target) -> str:
    """One checked address for the target: every address the name resolves to must be allowed."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Blocked(f"the host {target.host!r} could not be resolved") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Blocked(f"the host {target.host!r} could not be resolved")
    if target.host_port not in allowed_hosts():
        bad = [a for a in addresses if not address_allowed(a)]
        if bad and bad[0] == target.host:
            raise Blocked(f"{target.host} is a private or reserved address")
        if bad:
            raise Blocked(f"{target.host} resolves to a private or reserved address ({bad[0]})")
    return addresses[0]


def check_url(url: str) -> tuple[Target, str]:
    """Validates a URL up front: http(s), resolvable, and only to public addresses (or allowed hosts)."""
    target = parse_target(url)
    return target, resolve(target)


# --- pinned fetching ------------------------------------------------------------------------------


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address while verifying the certificate (and sending SNI) for the host name."""

    def __init__(self, address: str, hostname: str, port: int, timeout: float) -> None:
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._hostname = hostname

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._hostname)  # type: ignore[attr-defined]


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(
    method: str, target: Target, address: str, path: str, headers: dict[str, str], body: bytes | None, budget: int
) -> Fetched:
    """One request to the checked address, no redirects followed, the body capped at `budget` bytes."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPS(address, target.host, target.port, FETCH_TIMEOUT_S)
    else:
        connection = http.client.HTTPConnection(address, target.port, timeout=FETCH_TIMEOUT_S)
    out_headers = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP and not k.startswith(":")}
    out_headers = {k: v for k, v in out_headers.items() if k.lower() not in ("host", "accept-encoding")}
    out_headers["Host"] = target.host_header
    out_headers["Accept-Encoding"] = "identity"  # Chromium gets the bytes as they are: no decoding step
    try:
        connection.request(method, path or "/", body=body, headers=out_headers)
        response = connection.getresponse()
        data = response.read(min(budget, MAX_RESOURCE_BYTES) + 1)
        if len(data) > min(budget, MAX_RESOURCE_BYTES):
            raise Blocked("the page or one of its resources is too large")
        merged: dict[str, str] = {}
        for name, value in response.getheaders():
            if name.lower() in _HOP_BY_HOP:
                continue
            merged[name] = f"{merged[name]}\n{value}" if name in merged else value
        return Fetched(response.status, merged, data)
    finally:
        connection.close()


MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)


def follow(method: str, url: str, headers: dict[str, str], body: bytes | None, guard: _Guard) -> tuple[Fetched, str]:
    """Fetches a URL, following redirects here (each hop checked and pinned); returns the answer and final URL.

    Chromium does not send the request after a redirect it was handed back through interception, so
    hops are followed on this side, where each one is checked like the first.
    """
    for _ in range(MAX_REDIRECTS + 1):
        target = parse_target(url)
        address = guard.address_for(target)
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        fetched = fetch(method, target, address, path, headers, body, MAX_TOTAL_BYTES - guard.bytes_used)
        guard.bytes_used += len(fetched.body)
        location = next((v for k, v in fetched.headers.items() if k.lower() == "location"), None)
        if fetched.status not in _REDIRECTS or not location:
            return fetched, url
        url = urljoin(url, location.split("\n")[0].strip())
        if fetched.status == 303 or (fetched.status in (301, 302) and method == "POST"):
            method, body = "GET", None
    raise Blocked("too many redirects")


# --- capture ---------------------------------------------------------------------------------------


@dataclass
class Capture:
    png: bytes
    width: int
    height: int
    truncated: bool
    final_url: str
    blocked: list[str] = field(default_factory=list)


@dataclass
class _Guard:
    """Per-capture state of the request interceptor."""

    main_url: str
    blocked: list[str] = field(default_factory=list)
    document_error: str | None = None
    requests: int = 0
    bytes_used: int = 0
    pinned: dict[str, str] = field(default_factory=dict)  # host:port -> the address checked first
    redirect_to: str | None = None

    def address_for(self, target: Target) -> str:
        # The first checked answer is kept for the whole capture: later lookups can't rebind the name.
        key = target.host_port
        if key not in self.pinned:
            self.pinned[key] = resolve(target)
        return self.pinned[key]


async def _handle(route: object, guard: _Guard) -> None:
    from playwright.async_api import Route

    assert isinstance(route, Route)
    request = route.request
    is_document = request.is_navigation_request() and request.frame.parent_frame is None
    url = request.url
    try:
        guard.requests += 1
        if guard.requests > MAX_REQUESTS:
            raise Blocked("the page makes too many requests")
        headers = await request.all_headers()
        fetched, final = await asyncio.to_thread(follow, request.method, url, headers, request.post_data_buffer, guard)
    except Blocked as exc:
        guard.blocked.append(url[:200])
        if is_document and guard.document_error is None:
            guard.document_error = str(exc)
        await route.abort("blockedbyclient")
        return
    except (OSError, http.client.HTTPException) as exc:
        log.info("capture fetch failed for %s: %s", url[:200], exc)
        if is_document and guard.document_error is None:
            guard.document_error = "the page could not be loaded"
        await route.abort("failed")
        return
    if is_document and final != url:
        # The page must live at its final address (relative links resolve against it): navigate there.
        guard.redirect_to = final
        await route.abort("aborted")
        return
    await route.fulfill(status=fetched.status, headers=fetched.headers, body=fetched.body)


async def capture(
    url: str,
    *,
    width: int,
    height: int,
    full_page: bool,
    max_height: int,
    mobile: bool,
    navigation_timeout_s: float,
) -> Capture:
    """Loads the page with every request checked and pinned, and screenshots it as PNG."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    guard = _Guard(url)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, proxy={"server": DEAD_PROXY}, headless=True
        )
        try:
            context = await browser.new_context(
                viewport={"width": width, "height": height},
                device_scale_factor=1,
                is_mobile=mobile,
                has_touch=mobile,
                service_workers="block",
                accept_downloads=False,
                java_script_enabled=True,
            )
            await context.route("**/*", lambda route: _handle(route, guard))
            await context.route_web_socket("**/*", lambda ws: ws.close())
            page = await context.new_page()
            page.set_default_timeout(navigation_timeout_s * 1000)
            address = url
            for _ in range(MAX_REDIRECTS + 1):
                guard.redirect_to = None
                try:
                    await page.goto(address, wait_until="load", timeout=navigation_timeout_s * 1000)
                    break
                except PlaywrightError as exc:
                    if guard.document_error:
                        raise Blocked(guard.document_error) from None
                    if guard.redirect_to:
                        address = guard.redirect_to
                        continue
                    if "Timeout" in str(exc):
                        raise TimeoutError("the page did not finish loading in time") from None
                    raise Blocked("the page could not be loaded") from None
            else:
                raise Blocked("too many redirects")
            if guard.document_error:
                raise Blocked(guard.document_error)
            truncated = False
            if full_page:
                total = await page.evaluate(
                    "() => Math.max(document.documentElement.scrollHeight, document.body ? "
                    "document.body.scrollHeight : 0)"
                )
                shot_h = max(height, min(int(total or height), max_height))
                truncated = int(total or 0) > max_height
                png = await page.screenshot(
                    type="png", full_page=True, clip={"x": 0, "y": 0, "width": width, "height": shot_h}
                )
            else:
                png = await page.screenshot(type="png", full_page=False)
            final_url = page.url
        finally:
            await browser.close()
    return Capture(png, width, height, truncated, final_url, guard.blocked)


# --- page slots ----------------------------------------------------------------------------------


def max_pages() -> int:
    try:
        return max(1, int(os.environ.get(MAX_PAGES_ENV, "2")))
    except ValueError:
        return 2


@contextlib.contextmanager
def page_slot(wait_s: float = 30.0) -> Iterator[None]:
    """One of a few machine-wide browser slots (file locks, so every worker process shares them)."""
    folder = Path(tempfile.gettempdir()) / f"lutra-browser-slots-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        for index in range(max_pages()):
            handle = open(folder / f"slot-{index}.lock", "a+")  # noqa: SIM115 (held until the capture ends)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        if time.monotonic() > deadline:
            raise TimeoutError("all browser slots are busy")
        time.sleep(0.2)
