"""HTML to Image through the HTTP API: real captures of a local page, and every way into the host's
network refused (loopback, private, link-local, IPv6 loopback, a name resolving to loopback, a redirect).

Only local servers exist here, so the one successful-capture path uses the administrator's
HTML_TO_IMAGE_ALLOW_HOSTS exception for exactly the test server's host:port.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from app.engine.media import browser
from tests.assertions import assert_error
from tests.tools.image.layout_helpers import image_at, near, rgb

pytestmark = pytest.mark.skipif(not browser.Path(browser.CHROMIUM).exists(), reason="chromium is not installed")
TOOL = "/api/v1/tools/image/html-to-image"


@dataclass
class Site:
    """A local web server: path -> (status, headers, body); records every path it is asked for."""

    pages: dict[str, tuple[int, dict[str, str], bytes]]
    hits: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def sites() -> Iterator[list[Site]]:
    started: list[tuple[Site, http.server.ThreadingHTTPServer]] = []

    def handler_for(site: Site) -> type[http.server.BaseHTTPRequestHandler]:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits.append(self.path)
                status, headers, body = site.pages.get(self.path, (404, {}, b"not here"))
                self.send_response(status)
                for name, value in {"Content-Type": "text/html", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    made: list[Site] = []
    for _ in range(2):
        site = Site({})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(site))
        site.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append((site, server))
        made.append(site)
    yield made
    for _, server in started:
        server.shutdown()
        server.server_close()


def test_private_targets_are_refused(admin: TestClient, sites: list[Site]) -> None:
    inside, _ = sites
    inside.pages["/"] = (200, {}, b"<p>secret</p>")
    for url in (
        f"http://127.0.0.1:{inside.port}/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        f"http://[::1]:{inside.port}/",
        f"http://localhost:{inside.port}/",
        f"http://[::ffff:127.0.0.1]:{inside.port}/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
    ):
        body = assert_error(admin.post(TOOL, json={"url": url}), 400, "URL_NOT_ALLOWED")
        assert "private or reserved" in body["error"], (url, body)
    for url in ("file:///etc/passwd", "ftp://example.com/", "javascript:alert(1)"):
        assert "url" in assert_error(admin.post(TOOL, json={"url": url}), 400, "VALIDATION_ERROR")["details"]
    assert_error(admin.post(TOOL, json={}), 400, "VALIDATION_ERROR")
    assert_error(admin.post(TOOL, json={"url": "http://x.test/", "viewportWidth": 100}), 400, "VALIDATION_ERROR")
    assert inside.hits == []
    schema = admin.get("/api/v1/tools/image/html-to-image").json()
    assert schema["inputs"]["jsonBody"] is True
    assert schema["settingsSchema"]["properties"]["devicePreset"]["enum"] == ["desktop", "tablet", "mobile", "custom"]


def test_redirect_to_loopback_is_refused(monkeypatch: pytest.MonkeyPatch, sites: list[Site], admin: TestClient) -> None:
    allowed, inside = sites
    monkeypatch.setenv(browser.ALLOW_HOSTS_ENV, f"127.0.0.1:{allowed.port}")
    inside.pages["/"] = (200, {}, b"<p>secret</p>")
    allowed.pages["/go"] = (302, {"Location": f"{inside.origin}/"}, b"")
    allowed.pages["/go-by-name"] = (302, {"Location": f"http://localhost:{allowed.port}/"}, b"")
    for path in ("/go", "/go-by-name"):
        body = assert_error(admin.post(TOOL, json={"url": f"{allowed.origin}{path}"}), 400, "URL_NOT_ALLOWED")
        assert "private or reserved" in body["error"]
    assert allowed.hits == ["/go", "/go-by-name"] and inside.hits == []


PAGE = b"""<html><body style="margin:0;background:#ff0000">
<div style="width:100px;height:100px;background:#0000ff"></div>
<img src="%s/tracker.png"><iframe src="http://169.254.169.254/"></iframe>
<script>fetch("%s/xhr").catch(() => {})</script>
</body></html>"""
TALL = b"""<html><head><meta name="viewport" content="width=device-width"></head>
<body style="margin:0;background:#00ff00"><div style="height:1500px"></div>
<div style="height:100px;background:#0000ff"></div></body></html>"""


def test_captures_an_allowed_local_page(monkeypatch: pytest.MonkeyPatch, sites: list[Site], admin: TestClient) -> None:
    allowed, inside = sites
    monkeypatch.setenv(browser.ALLOW_HOSTS_ENV, f"127.0.0.1:{allowed.port}")
    allowed.pages["/"] = (200, {}, PAGE % (inside.origin.encode(), inside.origin.encode()))
    allowed.pages["/tall"] = (200, {}, TALL)
    settings = {"url": f"{allowed.origin}/", "devicePreset": "custom", "viewportWidth": 400, "viewportHeight": 320}
    r = admin.post(TOOL, json=settings)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["downloadUrl"].split("?")[0].endswith("/screenshot.png") and body["originalSize"] == 0
    out = image_at(admin, body["downloadUrl"])
    assert (out.width, out.height) == (400, 320) == (body["width"], body["height"])
    assert near(rgb(out, 50, 50), (0, 0, 255), 2) and near(rgb(out, 395, 310), (255, 0, 0), 2)
    # The page's own sub-resources towards other local ports and the metadata address went nowhere.
    assert inside.hits == [] and body["blockedRequests"] >= 2
    r = admin.post(
        TOOL,
        json={
            "url": f"{allowed.origin}/tall",
            "fullPage": True,
            "devicePreset": "mobile",
            "format": "webp",
            "quality": 80,
        },
    )
    assert r.status_code == 200, r.text
    out = image_at(admin, r.json()["downloadUrl"])
    assert out.get("vips-loader") == "webpload_buffer" and (out.width, out.height) == (390, 1600)
    assert near(rgb(out, 100, 1550), (0, 0, 255), 10) and near(rgb(out, 100, 50), (0, 255, 0), 10)
