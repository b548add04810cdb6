"""Browser-test fixtures: the real server (`lutra serve` in a subprocess on a free port, with a fresh
data folder and SQLite) and Debian's Chromium driven by Playwright.

One server and one browser per test module and worker; each test gets its own browser context (its own
cookies), so tests don't depend on each other's order and can run on any xdist worker. Every page
records script errors and Content-Security-Policy violations, and a test fails if there were any.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ADMIN_PASSWORD = "admin-password-1"
# No Lutra setting comes from the developer's shell or the test run: the server gets only what start_server sets.
SETTINGS_VARS = {name.upper() for name in Settings.model_fields} | {"TOOL_MODULES"}
STARTUP_TIMEOUT_S = 60.0

expect.set_options(timeout=20_000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running `lutra serve`; api() gives an HTTP client signed in as someone."""

    base: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.base, headers=headers, timeout=60)
        self.clients.append(client)
        return client

    def login(self, username: str, password: str) -> str:
        r = self.client().post("/api/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def api(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> httpx.Client:
        return self.client(self.login(username, password))

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(data_dir: Path, settings: dict[str, str] | None = None, **more: str) -> Server:
    """Starts the server on a free port (another port if that one was taken meanwhile), with extra settings
    (as a dict or as keywords)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env.update({"DATA_DIR": str(data_dir), "LOG_LEVEL": "warning", "CONCURRENT_JOBS": "2", "WORKER_IDLE_S": "60"})
    env.update(settings or {})
    env.update(more)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"{data_dir.name}-server.log"
    for _ in range(3):
        port = _free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=data_dir.parent,  # not the checkout: its .env is the developer's, not the test's
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(f"http://127.0.0.1:{port}", data_dir, process, log)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(server.base + "/api/v1/health", timeout=2).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        server.stop()
        if "address already in use" not in log.read_text().lower():
            break
    raise RuntimeError(f"lutra serve did not start:\n{log.read_text()[-3000:]}")


def change_first_password(server: Server, password: str = ADMIN_PASSWORD) -> None:
    """Does the first-start admin's forced password change through the API."""
    client = server.client(server.login("admin", "admin"))
    r = client.post("/api/auth/change-password", json={"currentPassword": "admin", "newPassword": password})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose admin has already changed the first password (to ADMIN_PASSWORD)."""
    running = start_server(tmp_path_factory.mktemp("web") / "data")
    try:
        change_first_password(running)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class PageErrors:
    """Script errors and CSP violations seen by a page (resource 4xx answers are expected and ignored)."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        # The UI asks through <dialog> elements; a native alert would mean injected script ran.
        self.errors.append(f"unexpected {dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        text = message.text
        if message.type == "error" and not text.startswith("Failed to load resource"):
            self.errors.append(f"console: {text}")
        elif "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.errors.append(f"csp: {text}")


@pytest.fixture
def new_page(browser: Browser, server: Server) -> Iterator[Any]:
    """Makes pages in fresh browser contexts (separate cookies), e.g. an admin and a user side by side."""
    contexts: list[BrowserContext] = []
    watchers: list[PageErrors] = []

    def make(width: int = 1280, height: int = 900, **options: Any) -> Page:
        """options: further browser-context settings (locale, timezone_id, base_url of another server)."""
        options.setdefault("base_url", server.base)
        context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True, **options)
        contexts.append(context)
        page = context.new_page()
        watchers.append(PageErrors(page))
        return page

    yield make
    for context in contexts:
        context.close()
    problems = [e for w in watchers for e in w.errors]
    assert not problems, "the page reported errors:\n" + "\n".join(problems)


def sign_in(page: Page, username: str = "admin", password: str = ADMIN_PASSWORD, *, then: str = "/") -> Page:
    page.goto("/login?next=" + then)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".nav-user .username")).to_have_text(username)
    return page


def screenshot(page: Page, name: str) -> None:
    """Saves a screenshot artifact (not committed) of what the page shows now."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A sticky header would be drawn in the middle of a full-page capture: pin it while capturing.
    page.evaluate("document.querySelector('.topbar').style.position = 'static'; window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"), full_page=True)
    page.evaluate("document.querySelector('.topbar').style.position = ''")
