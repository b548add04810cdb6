"""Text and image watermarks through the HTTP API: pixels change only where the mark goes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import encode, fetch_image, loader, post, run_tool, solid
from tests.tools.image.overlay_helpers import changed_pixels, darkest, ok, post_parts, region

WHITE = (255, 255, 255)


def white_png(width: int = 200, height: int = 120) -> bytes:
    return encode(solid(width, height, WHITE), ".png")


def test_text_bottom_right_only_touches_that_corner(admin: TestClient) -> None:
    data = white_png()
    settings = {"text": "LUTRA", "fontSize": 24, "color": "#000000", "opacity": 100, "position": "bottom-right"}
    body = run_tool(admin, "watermark-text", data, settings, "photo.png")
    assert body["downloadUrl"].split("?")[0].endswith("/photo_watermarked.png")
    out = fetch_image(admin, body)
    assert (out.width, out.height) == (200, 120)
    assert darkest(region(out, 100, 60, 100, 60)) < 60  # solid black glyphs in the bottom-right quarter
    assert darkest(region(out, 0, 0, 100, 120)) == 255  # the left half untouched
    assert darkest(region(out, 0, 0, 200, 60)) == 255  # the top half untouched


def test_text_opacity_fades_the_colour(admin: TestClient) -> None:
    body = run_tool(admin, "watermark-text", white_png(), {"text": "MMM", "fontSize": 40, "opacity": 50}, "a.png")
    lowest = darkest(fetch_image(admin, body))
    assert 110 <= lowest <= 145  # black at 50 % over white is mid grey, never black


def test_tiled_text_covers_every_quarter_and_rotation_keeps_the_size(admin: TestClient) -> None:
    data = encode(solid(200, 160, WHITE), ".jpg", Q=95)
    settings = {"text": "©", "fontSize": 16, "opacity": 100, "tile": True, "rotation": 30, "color": "navy"}
    body = run_tool(admin, "watermark-text", data, settings, "shot.jpg")
    out = fetch_image(admin, body)
    assert loader(out) == "jpegload_buffer"
    assert (out.width, out.height) == (200, 160)
    for left, top in ((0, 0), (100, 0), (0, 80), (100, 80)):
        assert darkest(region(out, left, top, 100, 80)) < 150
    # "tiled" as a position (SnapOtter's spelling) means the same.
    again = run_tool(admin, "watermark-text", data, {**settings, "tile": False, "position": "tiled"}, "shot.jpg")
    assert changed_pixels(out, fetch_image(admin, again)) == 0


def test_text_on_every_frame_of_an_animation(admin: TestClient) -> None:
    frames = [solid(60, 40, WHITE), solid(60, 40, (250, 250, 250))]
    import pyvips

    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", 40)
    data = strip.write_to_buffer(".gif")
    body = run_tool(admin, "watermark-text", data, {"text": "X", "fontSize": 20, "opacity": 100}, "anim.gif")
    out = pyvips.Image.new_from_buffer(admin.get(body["downloadUrl"]).content, "", n=-1)
    assert out.get("n-pages") == 2
    assert darkest(out.crop(0, 0, 60, 40)) < 80 and darkest(out.crop(0, 40, 60, 40)) < 80


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "text"),
        ({"text": "a", "color": "not-a-colour"}, "color"),
        ({"text": "a", "position": "middle"}, "position"),
        ({"text": "a", "opacity": 101}, "opacity"),
        ({"text": "a", "font": "wingdings"}, "font"),
    ],
)
def test_text_invalid_settings(admin: TestClient, settings: dict, field: str) -> None:
    body = assert_error(post(admin, "watermark-text", white_png(), settings), 400, "VALIDATION_ERROR")
    assert field in body["error"] + str(body.get("details"))


def test_text_schema_lists_enums(admin: TestClient) -> None:
    schema = admin.get("/api/v1/tools/image/watermark-text").json()["settingsSchema"]
    assert "bottom-right" in schema["properties"]["position"]["enum"]
    assert "anton" in str(schema["properties"]["font"])


# --- watermark-image ---------------------------------------------------------------------------


def logo() -> bytes:
    return encode(solid(100, 50, (255, 0, 0, 255)), ".png")


def test_image_watermark_scaled_into_the_corner(admin: TestClient) -> None:
    r = post_parts(
        admin,
        "watermark-image",
        [("file", "base.png", white_png(200, 120)), ("watermark", "logo.png", logo())],
        {"position": "top-left", "opacity": 100, "scale": 25, "margin": 10},
    )
    body = ok(r)
    out = fetch_image(admin, body)
    assert (out.width, out.height) == (200, 120)
    # 25 % of 200 px: the 100x50 logo becomes 50x25, 10 px from the top-left corner.
    assert list(out(12, 12))[:3] == [255, 0, 0]
    assert list(out(58, 33))[:3] == [255, 0, 0]
    assert list(out(62, 12))[:3] == [255, 255, 255]
    assert list(out(12, 37))[:3] == [255, 255, 255]
    assert changed_pixels(region(out, 70, 0, 130, 120), region(solid(200, 120, WHITE), 70, 0, 130, 120)) == 0


def test_image_watermark_opacity_blends(admin: TestClient) -> None:
    r = post_parts(
        admin,
        "watermark-image",
        [("file", "base.png", white_png(200, 120)), ("watermark", "logo.png", logo())],
        {"position": "center", "opacity": 50},
    )
    out = fetch_image(admin, ok(r))
    red, green, blue = list(out(100, 60))[:3]
    assert red == 255 and 120 <= green <= 135 and 120 <= blue <= 135


def test_image_watermark_needs_the_second_file(admin: TestClient) -> None:
    assert_error(post(admin, "watermark-image", white_png(), {}), 400, "NO_FILE")
    r = post_parts(
        admin, "watermark-image", [("file", "a.png", white_png()), ("watermark", "w.png", b"garbage" * 20)], {}
    )
    assert r.status_code == 415
