"""Crop through the HTTP API: pixels, percent, clamping at the edges, regions outside, bad settings."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import BLUE, RED, close, encode, fetch_image, loader, marked, pixel, post, run_tool


def test_crop_pixels(admin: TestClient) -> None:
    body = run_tool(
        admin, "crop", encode(marked(100, 80), ".png"), {"left": 0, "top": 0, "width": 10, "height": 10}, "pic.png"
    )
    assert body["downloadUrl"].split("?")[0].endswith("/pic_cropped.png")
    out = fetch_image(admin, body)
    assert loader(out) == "pngload_buffer"
    assert (out.width, out.height) == (10, 10)
    assert close(pixel(out, 5, 5), RED, 0)


def test_crop_percent(admin: TestClient) -> None:
    settings = {"left": 50, "top": 50, "width": 50, "height": 50, "unit": "percent"}
    out = fetch_image(admin, run_tool(admin, "crop", encode(marked(200, 100), ".png"), settings))
    assert (out.width, out.height) == (100, 50)
    assert close(pixel(out, 99, 49), BLUE, 0)  # the bottom-right mark stays in the bottom-right
    assert close(pixel(out, 0, 0), (128, 128, 128), 0)


def test_crop_keeps_jpeg_and_applies_orientation(admin: TestClient) -> None:
    import pyvips

    image = marked(60, 40).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)  # upright: 40 wide, 60 high, red top-right
    out = fetch_image(
        admin, run_tool(admin, "crop", encode(image, ".jpg", Q=95), {"left": 30, "top": 0, "width": 10, "height": 10})
    )
    assert loader(out) == "jpegload_buffer"
    assert (out.width, out.height) == (10, 10)
    assert close(pixel(out, 5, 5), RED)


@pytest.mark.parametrize(
    "region",
    [
        {"left": 90, "top": 70, "width": 50, "height": 50},  # starts inside, runs past both edges
        {"left": 0, "top": 0, "width": 101, "height": 80},  # one pixel too wide
        {"left": 0, "top": 79, "width": 10, "height": 2},  # one pixel too low
        {"left": 100, "top": 0, "width": 10, "height": 10},  # starts outside
        {"left": 60, "top": 0, "width": 50, "height": 10, "unit": "percent"},
    ],
)
def test_area_beyond_the_image_is_refused_naming_its_size(admin: TestClient, region: dict) -> None:
    r = post(admin, "crop", encode(marked(100, 80), ".png"), region)
    body = assert_error(r, 422, "CROP_OUT_OF_BOUNDS")
    assert "extends beyond the image, which is 100x80 pixels" in body["error"]


def test_area_up_to_the_edges_is_accepted(admin: TestClient) -> None:
    out = fetch_image(
        admin,
        run_tool(admin, "crop", encode(marked(100, 80), ".png"), {"left": 90, "top": 70, "width": 10, "height": 10}),
    )
    assert (out.width, out.height) == (10, 10)
    assert close(pixel(out, 5, 5), BLUE, 0)
    settings = {"left": 33.3, "top": 0, "width": 66.7, "height": 100, "unit": "percent"}
    out = fetch_image(admin, run_tool(admin, "crop", encode(marked(100, 80), ".png"), settings))
    assert (out.width, out.height) == (67, 80)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"left": 0, "top": 0, "height": 10}, "width"),
        ({"width": 10, "height": 0}, "height"),
        ({"width": 10, "height": 10, "left": -1}, "left"),
        ({"width": 10, "height": 10, "unit": "cm"}, "unit"),
    ],
)
def test_invalid_settings_name_the_field(admin: TestClient, settings: dict, field: str) -> None:
    body = assert_error(post(admin, "crop", encode(marked(40, 30), ".png"), settings), 400, "VALIDATION_ERROR")
    assert field in body["details"]


def test_percent_over_100_is_refused(admin: TestClient) -> None:
    settings = {"width": 150, "height": 10, "unit": "percent"}
    body = assert_error(post(admin, "crop", encode(marked(40, 30), ".png"), settings), 400, "VALIDATION_ERROR")
    assert "cannot exceed 100" in body["error"]
