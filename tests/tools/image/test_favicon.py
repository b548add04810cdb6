"""favicon through the HTTP API: the ZIP's ICO (parsed by hand), PNG sizes, padding, background, radius."""

from __future__ import annotations

import json
import struct

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import download, encode, pixel, post, run_tool, solid
from tests.tools.image.multi_helpers import zip_members

RED_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#f00"/></svg>'
)


def icons(admin: TestClient, data: bytes, settings: dict, name: str = "logo.png") -> tuple[dict, dict[str, bytes]]:
    body = run_tool(admin, "favicon", data, settings, name)
    return body, zip_members(download(admin, body))


def ico_entries(data: bytes) -> list[tuple[int, bytes]]:
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    entries = []
    for i in range(count):
        w, h, _, _, planes, bpp, size, offset = struct.unpack("<BBBBHHII", data[6 + 16 * i : 22 + 16 * i])
        assert w == h and (planes, bpp) == (1, 32)
        entries.append((w, data[offset : offset + size]))
    return entries


def test_favicon_zip_has_every_size(admin: TestClient) -> None:
    body, files = icons(admin, encode(solid(64, 32, (0, 0, 255)), ".png"), {})
    assert body["downloadUrl"].split("?")[0].endswith("/favicons.zip")
    expected = {
        "favicon-16x16.png": 16,
        "favicon-32x32.png": 32,
        "favicon-48x48.png": 48,
        "apple-touch-icon.png": 180,
        "android-chrome-192x192.png": 192,
        "android-chrome-512x512.png": 512,
    }
    assert set(files) == set(expected) | {"favicon.ico", "site.webmanifest", "favicon.html"}
    for name, size in expected.items():
        image = pyvips.Image.new_from_buffer(files[name], "")
        assert (image.width, image.height) == (size, size)
    ico = ico_entries(files["favicon.ico"])
    assert [w for w, _ in ico] == [16, 32, 48]
    for side, png in ico:
        assert pyvips.Image.new_from_buffer(png, "").width == side
    icon = pyvips.Image.new_from_buffer(files["android-chrome-512x512.png"], "")
    assert icon(256, 256)[:3] == [0, 0, 255] and icon(256, 10)[3] == 0  # letterboxed on transparency
    touch = pyvips.Image.new_from_buffer(files["apple-touch-icon.png"], "")
    assert touch(90, 5)[:4] == [255, 255, 255, 255]  # apple-touch-icon is never transparent
    manifest = json.loads(files["site.webmanifest"])
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    assert 'rel="apple-touch-icon"' in files["favicon.html"].decode() and body["html"] == files["favicon.html"].decode()


def test_favicon_padding_background_and_radius(admin: TestClient) -> None:
    settings = {"padding": 25, "backgroundColor": "#00FF00", "borderRadius": 50}
    _, files = icons(admin, RED_SVG, settings, "logo.svg")
    icon = pyvips.Image.new_from_buffer(files["android-chrome-512x512.png"], "")
    assert pixel(icon, 256, 256) == [255, 0, 0, 255]  # the SVG, rendered in the middle
    assert pixel(icon, 256, 100)[:4] == [0, 255, 0, 255]  # padding shows the background
    assert pixel(icon, 3, 3)[3] == 0  # a 50% radius makes a circle: corners are transparent
    assert_error(post(admin, "favicon", RED_SVG, {"padding": 41}, "a.svg"), 400, "VALIDATION_ERROR")
    assert_error(post(admin, "favicon", RED_SVG, {"backgroundColor": "green"}, "a.svg"), 400, "VALIDATION_ERROR")
