"""Resize through the HTTP API: every fit mode, percentage, presets, orientation, formats, errors."""

from __future__ import annotations

import pytest
import pyvips
from fastapi.testclient import TestClient

from app.tools.image.resize import PRESETS
from tests.assertions import assert_error
from tests.tools.image.helpers import RED, close, encode, fetch_image, loader, marked, pixel, post, run_tool, solid


def test_width_only_keeps_aspect_ratio(admin: TestClient) -> None:
    body = run_tool(admin, "resize", encode(marked(400, 300), ".jpg"), {"width": 200}, "photo.jpg")
    assert body["downloadUrl"].split("?")[0].endswith("/photo_resized.jpg")
    image = fetch_image(admin, body)
    assert (image.width, image.height) == (200, 150)
    assert loader(image) == "jpegload_buffer"
    assert (body["width"], body["height"]) == (200, 150)


def test_height_only(admin: TestClient) -> None:
    image = fetch_image(admin, run_tool(admin, "resize", encode(marked(400, 300), ".png"), {"height": 60}, "a.png"))
    assert (image.width, image.height) == (80, 60)
    assert loader(image) == "pngload_buffer"


@pytest.mark.parametrize(
    ("fit", "expected"),
    [
        ("cover", (100, 100)),
        ("contain", (100, 100)),
        ("fill", (100, 100)),
        ("inside", (100, 50)),
        ("outside", (200, 100)),
    ],
)
def test_fit_modes(admin: TestClient, fit: str, expected: tuple[int, int]) -> None:
    data = encode(marked(400, 200), ".png")
    image = fetch_image(admin, run_tool(admin, "resize", data, {"width": 100, "height": 100, "fit": fit}, "a.png"))
    assert (image.width, image.height) == expected


def test_contain_pads_transparent_for_png_and_white_for_jpeg(admin: TestClient) -> None:
    settings = {"width": 100, "height": 100, "fit": "contain"}
    png = fetch_image(admin, run_tool(admin, "resize", encode(solid(400, 200, RED), ".png"), settings, "a.png"))
    assert png.bands == 4
    assert pixel(png, 50, 5)[3] == 0  # padding above the image is transparent
    assert close(pixel(png, 50, 50), (*RED, 255))
    jpeg = fetch_image(admin, run_tool(admin, "resize", encode(solid(400, 200, RED), ".jpg"), settings))
    assert jpeg.bands == 3
    assert close(pixel(jpeg, 50, 5), (255, 255, 255))
    assert close(pixel(jpeg, 50, 50), RED)


def test_fit_defaults_to_contain(admin: TestClient) -> None:
    image = fetch_image(admin, run_tool(admin, "resize", encode(solid(400, 200), ".png"), {"width": 50, "height": 50}))
    assert (image.width, image.height) == (50, 50)


def test_cover_crops_the_centre(admin: TestClient) -> None:
    # Left half red, right half blue: a centred square crop shows both halves.
    image = solid(200, 100, RED).insert(solid(100, 100, (0, 0, 255)), 100, 0)
    out = fetch_image(
        admin, run_tool(admin, "resize", encode(image, ".png"), {"width": 50, "height": 50, "fit": "cover"})
    )
    assert close(pixel(out, 2, 25), RED)
    assert close(pixel(out, 47, 25), (0, 0, 255))


def test_percentage(admin: TestClient) -> None:
    image = fetch_image(admin, run_tool(admin, "resize", encode(marked(400, 300), ".jpg"), {"percentage": 50}))
    assert (image.width, image.height) == (200, 150)
    image = fetch_image(admin, run_tool(admin, "resize", encode(marked(40, 30), ".jpg"), {"percentage": 250}))
    assert (image.width, image.height) == (100, 75)


def test_without_enlargement(admin: TestClient) -> None:
    data = encode(marked(400, 300), ".jpg")
    image = fetch_image(admin, run_tool(admin, "resize", data, {"width": 1000, "withoutEnlargement": True}))
    assert (image.width, image.height) == (400, 300)
    image = fetch_image(admin, run_tool(admin, "resize", data, {"percentage": 300, "withoutEnlargement": True}))
    assert (image.width, image.height) == (400, 300)
    image = fetch_image(admin, run_tool(admin, "resize", data, {"width": 1000}))
    assert (image.width, image.height) == (1000, 750)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_give_exact_sizes(admin: TestClient, preset: str) -> None:
    image = fetch_image(admin, run_tool(admin, "resize", encode(marked(64, 48), ".jpg"), {"preset": preset}))
    assert (image.width, image.height) == PRESETS[preset]


def test_there_are_23_presets() -> None:
    assert len(PRESETS) == 23


def test_exif_orientation_is_applied(admin: TestClient) -> None:
    # Stored 40x20 with orientation 6 (turn 90° clockwise to view): upright it is 20x40.
    image = marked(40, 20).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    out = fetch_image(admin, run_tool(admin, "resize", encode(image, ".jpg"), {"width": 10}))
    assert (out.width, out.height) == (10, 20)
    # The pixels were turned, so the tag must not tell viewers to turn them again.
    assert not out.get_typeof("orientation") or out.get("orientation") == 1


def test_heic_in_heic_out(admin: TestClient) -> None:
    data = encode(marked(128, 96), ".heic", compression="hevc")
    body = run_tool(admin, "resize", data, {"width": 64}, "phone.heic")
    assert body["downloadUrl"].split("?")[0].endswith(".heic")
    out = fetch_image(admin, body)
    assert loader(out) == "heifload_buffer"
    assert out.get("heif-compression") == "hevc"
    assert (out.width, out.height) == (64, 48)


def test_bmp_comes_back_as_png(admin: TestClient) -> None:
    body = run_tool(admin, "resize", encode(marked(64, 48), ".bmp"), {"width": 32}, "old.bmp")
    out = fetch_image(admin, body)
    assert loader(out) == "pngload_buffer"
    assert (out.width, out.height) == (32, 24)


def test_animated_gif_keeps_its_frames(admin: TestClient) -> None:
    frames = [solid(40, 20, (i * 100, 0, 0)) for i in range(3)]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", 20)
    body = run_tool(admin, "resize", encode(strip, ".gif"), {"width": 20}, "anim.gif")
    out = pyvips.Image.new_from_buffer(admin.get(body["downloadUrl"]).content, "", n=-1)
    assert out.get("n-pages") == 3
    assert (out.width, out.get("page-height")) == (20, 10)


def test_needs_a_size(admin: TestClient) -> None:
    body = assert_error(post(admin, "resize", encode(marked(40, 30), ".jpg"), {}), 400, "VALIDATION_ERROR")
    assert "percentage or preset" in body["error"]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"width": 100, "fit": "stretch"}, "fit"),
        ({"percentage": 0}, "percentage"),
        ({"width": 0}, "width"),
        ({"preset": "myspace-banner"}, "preset"),
        ({"width": 10, "quality": 101}, "quality"),
    ],
)
def test_invalid_settings_name_the_field(admin: TestClient, settings: dict, field: str) -> None:
    body = assert_error(post(admin, "resize", encode(marked(40, 30), ".jpg"), settings), 400, "VALIDATION_ERROR")
    assert field in body["details"]


def test_truncated_image_fails_cleanly(admin: TestClient) -> None:
    data = encode(marked(400, 300), ".jpg", Q=95)
    r = post(admin, "resize", data[: len(data) // 2], {"width": 100})
    assert 400 <= r.status_code < 500, r.text
    assert "/" not in r.json()["error"].replace("Processing failed", "")
