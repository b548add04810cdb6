"""Color palette through the HTTP API: the dominant colours of a known image, and the swatch strip."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import encode, fetch_image, post, run_tool, solid


def quarters() -> bytes:
    image = solid(100, 100, (255, 0, 0))
    image = image.draw_rect([0, 0, 255], 50, 0, 50, 100, fill=True)
    return encode(image.draw_rect([255, 255, 0], 0, 75, 50, 25, fill=True), ".png")


def test_dominant_colours_and_shares(admin: TestClient) -> None:
    body = run_tool(admin, "color-palette", quarters(), {"count": 3}, "flag.png")
    assert body["hex"] == ["#0000ff", "#ff0000", "#ffff00"]  # flat areas: exact, no edge blending
    assert [round(p["percent"]) for p in body["palette"]] == [50, 38, 12]
    strip = fetch_image(admin, body)
    assert strip.width == 3 * 96
    assert list(strip(48, 48))[:3] == [0, 0, 255] and list(strip(96 + 48, 48))[:3] == [255, 0, 0]

    rgb = run_tool(admin, "color-palette", quarters(), {"count": 3, "format": "rgb"}, "flag.png")
    assert rgb["colors"][0] == "rgb(0, 0, 255)"
    hsl = run_tool(admin, "color-palette", quarters(), {"count": 3, "format": "hsl"}, "flag.png")
    assert hsl["colors"][1] == "hsl(0, 100%, 50%)"


def test_transparent_pixels_are_not_a_colour(admin: TestClient) -> None:
    image = solid(40, 40, (0, 0, 0, 0)).draw_rect([0, 200, 0, 255], 0, 0, 20, 40, fill=True)
    body = run_tool(admin, "color-palette", encode(image, ".png"), {"count": 2}, "logo.png")
    assert body["hex"][0] == "#00c800" and body["palette"][0]["percent"] == 100


def test_palette_settings(admin: TestClient) -> None:
    assert_error(post(admin, "color-palette", quarters(), {"count": 1}), 400, "VALIDATION_ERROR")
    assert_error(post(admin, "color-palette", quarters(), {"format": "cmyk"}), 400, "VALIDATION_ERROR")
