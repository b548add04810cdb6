"""Rotate & Flip through the HTTP API: right angles move the corner marks, other angles grow the canvas."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import BLUE, RED, close, encode, fetch_image, marked, pixel, post, run_tool

# marked(60, 40): red square top-left, blue square bottom-right.


def corners(image) -> dict[str, list[float]]:
    w, h = image.width, image.height
    return {
        "tl": pixel(image, 2, 2),
        "tr": pixel(image, w - 3, 2),
        "bl": pixel(image, 2, h - 3),
        "br": pixel(image, w - 3, h - 3),
    }


@pytest.mark.parametrize(
    ("settings", "size", "red", "blue"),
    [
        ({"angle": 90}, (40, 60), "tr", "bl"),
        ({"angle": -90}, (40, 60), "bl", "tr"),
        ({"angle": 270}, (40, 60), "bl", "tr"),
        ({"angle": 180}, (60, 40), "br", "tl"),
        ({"angle": 360}, (60, 40), "tl", "br"),
        ({"horizontal": True}, (60, 40), "tr", "bl"),
        ({"vertical": True}, (60, 40), "bl", "tr"),
        ({"horizontal": True, "vertical": True}, (60, 40), "br", "tl"),
        ({"angle": 90, "horizontal": True}, (40, 60), "tl", "br"),
    ],
)
def test_right_angles_and_flips(admin: TestClient, settings: dict, size: tuple[int, int], red: str, blue: str) -> None:
    out = fetch_image(admin, run_tool(admin, "rotate", encode(marked(60, 40), ".png"), settings, "a.png"))
    assert (out.width, out.height) == size
    found = corners(out)
    assert close(found[red], RED, 0), found
    assert close(found[blue], BLUE, 0), found


def test_jpeg_stays_jpeg(admin: TestClient) -> None:
    body = run_tool(admin, "rotate", encode(marked(60, 40), ".jpg", Q=95), {"angle": 90}, "shot.jpg")
    assert body["downloadUrl"].split("?")[0].endswith("/shot_rotated.jpg")
    out = fetch_image(admin, body)
    assert out.get("vips-loader") == "jpegload_buffer"
    assert close(corners(out)["tr"], RED)


def test_any_angle_grows_the_canvas_with_transparency(admin: TestClient) -> None:
    out = fetch_image(admin, run_tool(admin, "rotate", encode(marked(60, 40), ".png"), {"angle": 45}, "a.png"))
    assert out.width > 60 and out.height > 40
    assert out.bands == 4
    assert pixel(out, 0, 0)[3] == 0  # the new corners are transparent
    assert pixel(out, out.width // 2, out.height // 2)[3] == 255


def test_any_angle_on_jpeg_fills_white(admin: TestClient) -> None:
    out = fetch_image(admin, run_tool(admin, "rotate", encode(marked(60, 40), ".jpg", Q=95), {"angle": -30.5}))
    assert out.bands == 3
    assert close(pixel(out, 0, 0), (255, 255, 255), 10)


@pytest.mark.parametrize("settings", [{"angle": 361}, {"angle": "left"}, {"horizontal": "maybe"}, {"spin": 1}])
def test_invalid_settings(admin: TestClient, settings: dict) -> None:
    assert_error(post(admin, "rotate", encode(marked(40, 30), ".png"), settings), 400, "VALIDATION_ERROR")
