"""SVG to Raster through the HTTP API, and proof that untrusted SVG fetches nothing."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator

import pytest
import pyvips
from fastapi.testclient import TestClient

from app.engine.media.layout import svg_external_references
from tests.assertions import assert_error
from tests.tools.image.helpers import BLUE, RED, fetch_image, loader, post, run_tool
from tests.tools.image.layout_helpers import near, rgb, zip_entries

HALVES = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
    b'<rect width="20" height="20" fill="#FF0000"/><rect x="20" width="20" height="20" fill="#0000FF"/></svg>'
)


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A local HTTP server that records every request it gets: nothing should ever reach it."""
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Recorder.hits
    server.shutdown()
    server.server_close()


def test_renders_at_width_scale_and_dpi(admin: TestClient) -> None:
    body = run_tool(admin, "svg-to-raster", HALVES, {"width": 80}, "halves.svg")
    out = fetch_image(admin, body)
    assert body["downloadUrl"].split("?")[0].endswith("/halves.png") and loader(out) == "pngload_buffer"
    assert (out.width, out.height) == (80, 40) and near(rgb(out, 10, 20), RED) and near(rgb(out, 70, 20), BLUE)
    out = fetch_image(admin, run_tool(admin, "svg-to-raster", HALVES, {"scale": 0.5, "format": "webp"}))
    assert (out.width, out.height) == (20, 10) and loader(out) == "webpload_buffer"
    inch = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="1in" height="0.5in"><rect width="100%" height="100%"/></svg>'
    )
    out = fetch_image(admin, run_tool(admin, "svg-to-raster", inch, {"dpi": 200}))
    assert (out.width, out.height) == (200, 100)
    # Both sides given: fitted inside and centred, the rest is the background colour.
    settings = {"width": 40, "height": 40, "background": "#00FF00", "format": "jpeg"}
    out = fetch_image(admin, run_tool(admin, "svg-to-raster", HALVES, settings))
    assert (out.width, out.height, out.bands) == (40, 40, 3) and near(rgb(out, 20, 2), (0, 255, 0), 30)
    for fmt, expected in (
        ("avif", "heifload_buffer"),
        ("tiff", "tiffload_buffer"),
        ("gif", "gifload_buffer"),
        ("heif", "heifload_buffer"),
    ):
        assert loader(fetch_image(admin, run_tool(admin, "svg-to-raster", HALVES, {"format": fmt}))) == expected
    assert_error(post(admin, "svg-to-raster", HALVES, {"format": "bmp"}), 400, "VALIDATION_ERROR")
    assert_error(post(admin, "svg-to-raster", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, {}), 415)


def test_batch_route(admin: TestClient) -> None:
    r = admin.post(
        "/api/v1/tools/image/svg-to-raster/batch",
        files=[("files", ("a.svg", HALVES, "image/svg+xml")), ("files", ("b.svg", HALVES, "image/svg+xml"))],
        data={"settings": json.dumps({"width": 20})},
    )
    assert r.status_code == 200, r.text
    entries = zip_entries(r.content)
    assert sorted(entries) == ["a.png", "b.png"]
    assert pyvips.Image.new_from_buffer(entries["a.png"], "").width == 20


def _hostile(port: int) -> list[bytes]:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="20" height="20">'
    url = f"http://127.0.0.1:{port}/x.png"
    bodies = [
        f'<image href="{url}" width="20" height="20"/>',
        f"<image href='{url}' width='20' height='20'/>",
        f'<image xlink:href = "{url}" width="20" height="20"/>',
        "<image href='file:///etc/passwd' width='20' height='20'/>",
        f'<image href="&#104;ttp://127.0.0.1:{port}/escaped.png" width="20" height="20"/>',
        f'<rect width="20" height="20" style="fill: url({url}#paint)"/>',
        f"<style>rect {{ fill: url('{url}'); }}</style><rect width='20' height='20'/>",
        f"<style>@import '{url}';</style><rect width='20' height='20'/>",
        f"<image href='//127.0.0.1:{port}/relative.png' width='20' height='20'/>",
    ]
    docs = [(svg + b + "</svg>").encode() for b in bodies]
    docs.append(
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
        + svg.encode()
        + b"<text>&leak;</text></svg>"
    )
    return docs


def test_untrusted_svg_fetches_nothing(admin: TestClient, listener: tuple[int, list[str]]) -> None:
    port, hits = listener
    for doc in _hostile(port):
        r = post(admin, "svg-to-raster", doc, {}, "evil.svg")
        body = assert_error(r, 415)
        assert "external" in body["error"], body
        assert "passwd" not in r.text or "external" in body["error"]
    # A harmless same-document reference and a data: URI still render.
    ok = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><defs><linearGradient id="g">'
        b'<stop offset="0" stop-color="red"/></linearGradient></defs><rect width="10" height="10" fill="url(#g)"/>'
        b'<image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/></svg>'
    )
    out = fetch_image(admin, run_tool(admin, "svg-to-raster", ok, {}))
    assert near(rgb(out, 5, 5), RED)
    assert hits == []


def test_librsvg_itself_fetches_nothing(listener: tuple[int, list[str]]) -> None:
    """Defence in depth: even a reference the check missed resolves to nothing when rendered from memory."""
    port, hits = listener
    for doc in _hostile(port):
        assert svg_external_references(doc), doc
        with contextlib.suppress(pyvips.Error):  # refusing to render is fine too; fetching is not
            pyvips.Image.svgload_buffer(doc).copy_memory()
    assert hits == []
