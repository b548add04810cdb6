"""Convert through the HTTP API: each target format reads back with the right libvips loader."""

from __future__ import annotations

import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import RED, close, encode, fetch_image, loader, marked, pixel, post, run_tool, solid


@pytest.mark.parametrize(
    ("target", "expected_loader", "compression"),
    [
        ("jpg", "jpegload_buffer", None),
        ("png", "pngload_buffer", None),
        ("webp", "webpload_buffer", None),
        ("avif", "heifload_buffer", "av1"),
        ("heic", "heifload_buffer", "hevc"),
        ("heif", "heifload_buffer", "hevc"),
        ("tiff", "tiffload_buffer", None),
        ("gif", "gifload_buffer", None),
    ],
)
def test_every_target_format(admin: TestClient, target: str, expected_loader: str, compression: str | None) -> None:
    body = run_tool(admin, "convert", encode(marked(64, 48), ".png"), {"format": target, "quality": 70}, "pic.png")
    assert body["downloadUrl"].split("?")[0].endswith(f"/pic.{target}")
    assert body["format"] == target
    out = fetch_image(admin, body)
    assert loader(out) == expected_loader
    assert (out.width, out.height) == (64, 48)
    if compression:
        assert out.get("heif-compression") == compression
    assert close(pixel(out, 4, 4), RED, 60)


def test_heic_to_jpeg(admin: TestClient) -> None:
    data = encode(marked(64, 48), ".heic", compression="hevc")
    out = fetch_image(admin, run_tool(admin, "convert", data, {"format": "jpg"}, "IMG_0001.HEIC"))
    assert loader(out) == "jpegload_buffer"
    assert (out.width, out.height) == (64, 48)


def test_alpha_flattens_onto_white_for_jpeg(admin: TestClient) -> None:
    data = encode(solid(32, 32, (255, 0, 0, 0)), ".png")  # fully transparent red
    out = fetch_image(admin, run_tool(admin, "convert", data, {"format": "jpg"}))
    assert out.bands == 3
    assert close(pixel(out, 16, 16), (255, 255, 255), 5)


def test_alpha_survives_webp(admin: TestClient) -> None:
    data = encode(solid(32, 32, (255, 0, 0, 0)), ".png")
    out = fetch_image(admin, run_tool(admin, "convert", data, {"format": "webp"}))
    assert out.bands == 4
    assert pixel(out, 16, 16)[3] == 0


def test_quality_changes_the_size(admin: TestClient) -> None:
    data = encode(marked(256, 256).gaussblur(3), ".png")
    low = run_tool(admin, "convert", data, {"format": "jpg", "quality": 10})
    high = run_tool(admin, "convert", data, {"format": "jpg", "quality": 95})
    assert low["processedSize"] < high["processedSize"]


def test_animated_gif_to_webp_keeps_frames(admin: TestClient) -> None:
    frames = [solid(30, 20, (i * 100, 0, 0)) for i in range(3)]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", 20)
    body = run_tool(admin, "convert", encode(strip, ".gif"), {"format": "webp"}, "anim.gif")
    out = pyvips.Image.new_from_buffer(admin.get(body["downloadUrl"]).content, "", n=-1)
    assert loader(out) == "webpload_buffer"
    assert out.get("n-pages") == 3
    # Into a still format only the first frame is kept.
    still = fetch_image(admin, run_tool(admin, "convert", encode(strip, ".gif"), {"format": "png"}, "anim.gif"))
    assert (still.width, still.height) == (30, 20)


@pytest.mark.parametrize("settings", [{"format": "bmp"}, {"format": "jpg", "quality": 0}, {"quality": "high"}])
def test_invalid_settings(admin: TestClient, settings: dict) -> None:
    body = assert_error(post(admin, "convert", encode(marked(40, 30), ".png"), settings), 400, "VALIDATION_ERROR")
    assert set(body["details"]) & {"format", "quality"}
