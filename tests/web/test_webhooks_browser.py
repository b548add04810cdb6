"""In the browser: the Webhooks page under Settings, and CORS_ORIGIN letting a page on another origin call the API."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect
from standardwebhooks import Webhook as Verifier

from tests.integrations import conftest as integrations
from tests.integrations.conftest import Receiver
from tests.web.conftest import Server, change_first_password, screenshot, sign_in, start_server

NewPage = Callable[..., Page]
receiver = integrations.receiver  # the local webhook receiver fixture


@pytest.fixture(scope="module")
def other_origin() -> Iterator[int]:
    """A plain page on another origin (another port): the place a third-party web app would call from."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>another app</title><p>hello"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield site.server_address[1]
    site.shutdown()
    site.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, other_origin: int) -> Iterator[Server]:
    """Lutra allowing browser calls from the other origin, and webhooks to this machine's receiver."""
    settings = {"CORS_ORIGIN": f"http://127.0.0.1:{other_origin}", "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}
    running = start_server(tmp_path_factory.mktemp("web-hooks") / "data", settings)
    try:
        change_first_password(running)
        yield running
    finally:
        running.stop()


def test_add_a_webhook_see_its_secret_once_test_it_and_redeliver(
    new_page: NewPage, server: Server, receiver: Receiver
) -> None:
    page = sign_in(new_page(), then="/settings/webhooks")
    expect(page.get_by_role("heading", name="New webhook")).to_be_visible()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description (optional)").fill("build server")
    page.get_by_label("job.completed").check()
    page.get_by_role("button", name="Add webhook").click()
    secret_box = page.locator("code.webhook-secret")
    expect(secret_box).to_contain_text("whsec_")
    secret = secret_box.inner_text()
    row = page.locator(".webhooks-list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(receiver.url)
    expect(row).to_contain_text("job.completed")
    expect(row).to_contain_text("enabled")

    row.get_by_role("button", name="Test").click()
    (got,) = receiver.wait_for(1)
    assert Verifier(secret).verify(got.body, got.headers)["type"] == "webhook.test"
    deliveries = page.locator(".webhook-deliveries")
    for _ in range(20):
        deliveries.get_by_role("button", name="Refresh").click()
        if "succeeded" in deliveries.inner_text():
            break
        page.wait_for_timeout(250)
    expect(deliveries.locator("tbody tr")).to_have_count(1)
    expect(deliveries).to_contain_text(got.headers["webhook-id"])
    expect(deliveries).to_contain_text("succeeded")
    screenshot(page, "settings-webhooks")

    deliveries.get_by_role("button", name="Redeliver").click()
    again = receiver.wait_for(2)[-1]
    assert again.headers["webhook-id"] == got.headers["webhook-id"]
    # Reloaded, the page never shows the secret again.
    page.reload()
    expect(page.locator(".webhooks-list tbody tr")).to_have_count(1)
    expect(page.locator("code.webhook-secret")).to_have_count(0)
    assert secret not in page.content()


def test_a_page_on_an_allowed_origin_calls_the_api_after_a_preflight(
    browser: Browser, server: Server, other_origin: int
) -> None:
    key = server.api().post("/api/v1/api-keys", json={"name": "web app"}).json()["key"]
    script = """async ([url, key]) => {
        try {
            const r = await fetch(url, { headers: { 'X-API-Key': key } });
            return { status: r.status, body: await r.json(), limit: r.headers.get('X-RateLimit-Limit') };
        } catch (err) {
            return { failed: String(err) };
        }
    }"""
    context = browser.new_context()
    try:
        page = context.new_page()
        # X-API-Key is not a simple header: the browser asks first (a preflight), then sends the call.
        page.goto(f"http://127.0.0.1:{other_origin}/")
        allowed = page.evaluate(script, [server.base + "/api/v1/jobs", key])
        assert allowed.get("status") == 200, allowed
        assert allowed["body"]["jobs"] == [] and allowed["body"]["nextCursor"] is None
        # localhost is another origin than 127.0.0.1, and not in CORS_ORIGIN: the browser refuses.
        page.goto(f"http://localhost:{other_origin}/")
        refused = page.evaluate(script, [server.base + "/api/v1/jobs", key])
        assert "failed" in refused, refused
    finally:
        context.close()
