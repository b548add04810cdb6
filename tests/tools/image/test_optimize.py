"""optimize-for-web and its /preview through the HTTP API."""

from __future__ import annotations

import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import encode, fetch_image, loader, marked, noise, post, run_tool


def photo() -> bytes:
    image = noise(200, 150).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "Lutra Cam")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd3-GPSLatitude", "48/1 51/1 2964/100")
    return image.write_to_buffer(".jpg", Q=98)


@pytest.mark.parametrize(
    ("fmt", "expected_loader", "ext"),
    [
        ("webp", "webpload_buffer", "webp"),
        ("jpeg", "jpegload_buffer", "jpg"),
        ("avif", "heifload_buffer", "avif"),
        ("png", "pngload_buffer", "png"),
    ],
)
def test_optimize_formats_resize_and_strip(admin: TestClient, fmt: str, expected_loader: str, ext: str) -> None:
    data = photo()
    settings = {"format": fmt, "quality": 60, "maxWidth": 100, "maxHeight": 100}
    body = run_tool(admin, "optimize-for-web", data, settings, "photo.jpg")
    assert body["downloadUrl"].split("?")[0].endswith(f"/photo_optimized.{ext}")
    out = fetch_image(admin, body)
    assert loader(out) == expected_loader
    assert (out.width, out.height) == (100, 75) == (body["width"], body["height"])
    assert not [f for f in out.get_fields() if f.startswith("exif-") or f == "xmp-data"]
    assert body["originalSize"] == len(data) and body["optimizedSize"] == body["processedSize"]
    assert body["optimizedSize"] < len(data)
    assert body["savings"] == pytest.approx((1 - body["optimizedSize"] / len(data)) * 100, abs=0.1)


def test_optimize_never_enlarges_and_keeps_metadata_when_asked(admin: TestClient) -> None:
    body = run_tool(
        admin, "optimize-for-web", photo(), {"format": "jpeg", "maxWidth": 1000, "stripMetadata": False}, "p.jpg"
    )
    out = fetch_image(admin, body)
    assert (out.width, out.height) == (200, 150)
    assert out.get("exif-ifd0-Make").startswith("Lutra Cam")


def test_optimize_progressive_jpeg_and_quality(admin: TestClient) -> None:
    data = photo()
    prog = fetch_image(admin, run_tool(admin, "optimize-for-web", data, {"format": "jpeg", "progressive": True}))
    base = fetch_image(admin, run_tool(admin, "optimize-for-web", data, {"format": "jpeg", "progressive": False}))
    assert prog.get("jpeg-multiscan") == 1 and base.get("jpeg-multiscan") == 0
    low = run_tool(admin, "optimize-for-web", data, {"quality": 20})
    high = run_tool(admin, "optimize-for-web", data, {"quality": 90})
    assert low["processedSize"] < high["processedSize"]


def test_optimize_keeps_transparency_in_webp(admin: TestClient) -> None:
    image = marked(60, 40).bandjoin(100).copy(interpretation="srgb")
    out = fetch_image(admin, run_tool(admin, "optimize-for-web", encode(image, ".png"), {"quality": 90}, "a.png"))
    assert out.bands == 4 and out(30, 20)[3] == pytest.approx(100, abs=2)


def test_preview_answers_the_image_with_size_headers(admin: TestClient) -> None:
    data = photo()
    r = admin.post(
        "/api/v1/tools/image/optimize-for-web/preview",
        files={"file": ("p.jpg", data)},
        data={"settings": '{"format": "webp", "quality": 50, "maxWidth": 120}'},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/webp"
    assert int(r.headers["x-original-size"]) == len(data)
    assert int(r.headers["x-optimized-size"]) == len(r.content)
    assert float(r.headers["x-savings"]) > 0
    image = pyvips.Image.new_from_buffer(r.content, "")
    assert (image.width, image.height) == (120, 90)
    bad = admin.post(
        "/api/v1/tools/image/optimize-for-web/preview",
        files={"file": ("p.jpg", data)},
        data={"settings": '{"format": "gif"}'},
    )
    assert "format" in assert_error(bad, 400, "VALIDATION_ERROR")["error"]


def test_optimize_invalid_settings(admin: TestClient) -> None:
    for settings, needle in (({"quality": 0}, "quality"), ({"maxWidth": 0}, "maxWidth"), ({"format": "bmp"}, "format")):
        assert (
            needle in assert_error(post(admin, "optimize-for-web", photo(), settings), 400, "VALIDATION_ERROR")["error"]
        )
    schema = admin.get("/api/v1/tools/image/optimize-for-web").json()["settingsSchema"]
    assert schema["properties"]["format"]["enum"] == ["webp", "jpeg", "avif", "png"]
