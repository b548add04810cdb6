"""Image Info through the HTTP API: it reports exactly what the generated file was built with."""

from __future__ import annotations

import json

import pyvips
from fastapi.testclient import TestClient

from tests.tools.image.helpers import download, encode, marked, run_tool, solid


def test_jpeg_with_exif_orientation_and_dpi(admin: TestClient) -> None:
    image = marked(64, 48).copy(xres=300 / 25.4, yres=300 / 25.4)
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "Lutra Cam")
    data = encode(image, ".jpg", interlace=True)
    body = run_tool(admin, "info", data, {}, "camera.jpg")
    assert body["width"] == 64 and body["height"] == 48
    assert body["format"] == "jpeg"
    assert body["size"] == len(data)
    assert body["channels"] == 3
    assert body["hasAlpha"] is False
    assert body["dpi"] == 300
    assert body["orientation"] == 6
    assert body["exif"]["Make"] == "Lutra Cam"
    assert body["exif"]["Orientation"] == "Right-top"
    assert body["pages"] == 1
    assert body["colorspace"] == "srgb"
    assert body["isProgressive"] is True
    # The downloadable JSON carries the same fields.
    assert body["downloadUrl"].split("?")[0].endswith("/camera_info.json")
    assert json.loads(download(admin, body))["exif"] == body["exif"]


def test_png_with_alpha(admin: TestClient) -> None:
    data = encode(solid(20, 10, (1, 2, 3, 128)).copy(xres=72 / 25.4, yres=72 / 25.4), ".png")
    body = run_tool(admin, "info", data, {}, "a.png")
    assert (body["width"], body["height"], body["channels"]) == (20, 10, 4)
    assert body["hasAlpha"] is True
    assert body["dpi"] == 72
    assert body["format"] == "png"
    assert body["exif"] == {}
    assert body["orientation"] == 1


def test_png_without_resolution_has_no_dpi(admin: TestClient) -> None:
    body = run_tool(admin, "info", encode(solid(8, 8), ".png"), {}, "a.png")
    assert body["dpi"] is None


def test_animated_gif_pages(admin: TestClient) -> None:
    frames = [solid(30, 20, (i * 100, 0, 0)) for i in range(4)]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", 20)
    body = run_tool(admin, "info", encode(strip, ".gif"), {}, "a.gif")
    assert body["pages"] == 4
    assert (body["width"], body["height"]) == (30, 20)
    assert body["format"] == "gif"


def test_heic(admin: TestClient) -> None:
    body = run_tool(admin, "info", encode(solid(64, 32), ".heic", compression="hevc"), {}, "a.heic")
    assert body["format"] == "heif"
    assert (body["width"], body["height"]) == (64, 32)


def test_info_takes_no_settings(admin: TestClient) -> None:
    from tests.assertions import assert_error
    from tests.tools.image.helpers import post

    assert_error(post(admin, "info", encode(solid(8, 8), ".png"), {"verbose": True}), 400, "VALIDATION_ERROR")
