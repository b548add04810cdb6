"""Text overlay and composition through the HTTP API: where the pixels land, blend maths, errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import encode, fetch_image, run_tool, solid
from tests.tools.image.overlay_helpers import darkest, ok, post_parts, region


def test_text_overlay_at_a_point_with_a_rounded_box(admin: TestClient) -> None:
    data = encode(solid(200, 120, (255, 255, 255)), ".png")
    settings = {
        "text": "Hi",
        "fontSize": 20,
        "color": "#ffffff",
        "x": 10,
        "y": 10,
        "background": "#0000ff",
        "padding": 8,
        "borderRadius": 6,
    }
    body = run_tool(admin, "text-overlay", data, settings, "card.png")
    left, top, width, height = body["box"]
    assert (left, top) == (10, 10) and width > 30 and height > 30
    out = fetch_image(admin, body)
    assert list(out(10 + width // 2, 12))[:3] == [0, 0, 255]  # inside the box, above the glyphs
    assert list(out(10, 10))[:3] == [255, 255, 255]  # the rounded corner leaves the base showing
    assert list(out(10 + width + 2, 10 + height // 2))[:3] == [255, 255, 255]  # right of the box
    assert darkest(region(out, 0, 60, 200, 60)) == 255  # nothing drawn in the lower half


def test_text_overlay_defaults_to_a_bottom_caption(admin: TestClient) -> None:
    data = encode(solid(160, 160, (255, 255, 255)), ".jpg", Q=95)
    body = run_tool(admin, "text-overlay", data, {"text": "bottom", "fontSize": 16, "color": "black"}, "p.jpg")
    out = fetch_image(admin, body)
    assert darkest(region(out, 0, 110, 160, 50)) < 80
    assert darkest(region(out, 0, 0, 160, 100)) > 230


def parts(base: bytes, top: bytes) -> list[tuple[str, str, bytes]]:
    return [("file", "base.png", base), ("overlay", "top.png", top)]


def test_compose_places_and_blends(admin: TestClient) -> None:
    base = encode(solid(100, 80, (200, 100, 50)), ".png")
    top = encode(solid(20, 20, (100, 100, 100)), ".png")
    out = fetch_image(admin, ok(post_parts(admin, "compose", parts(base, top), {"x": 30, "y": 40})))
    assert (out.width, out.height) == (100, 80)
    assert list(out(35, 45))[:3] == [100, 100, 100]
    assert list(out(29, 45))[:3] == [200, 100, 50] and list(out(35, 39))[:3] == [200, 100, 50]

    multiply = fetch_image(
        admin, ok(post_parts(admin, "compose", parts(base, top), {"x": 0, "y": 0, "blend": "multiply"}))
    )
    r, g, b = list(multiply(5, 5))[:3]
    assert abs(r - 200 * 100 / 255) <= 2 and abs(g - 100 * 100 / 255) <= 2 and abs(b - 50 * 100 / 255) <= 2

    # SnapOtter's own clients send blendMode; half opacity lands halfway between the two colours.
    screen = ok(post_parts(admin, "compose", parts(base, top), {"blendMode": "normal", "opacity": 50}))
    r, g, b = list(fetch_image(admin, screen)(5, 5))[:3]
    assert abs(r - 150) <= 2 and abs(g - 100) <= 2 and abs(b - 75) <= 2


def test_compose_errors(admin: TestClient) -> None:
    base = encode(solid(50, 50, (0, 0, 0)), ".png")
    top = encode(solid(10, 10, (255, 255, 255)), ".png")
    assert_error(post_parts(admin, "compose", parts(base, top), {"x": 60}), 400)
    body = assert_error(post_parts(admin, "compose", parts(base, top), {"blend": "dissolve"}), 400, "VALIDATION_ERROR")
    assert "blend" in body["error"] + str(body.get("details"))
    assert_error(post_parts(admin, "compose", [("file", "base.png", base)], {}), 400, "NO_FILE")
    schema = admin.get("/api/v1/tools/image/compose").json()["settingsSchema"]
    assert "multiply" in schema["properties"]["blend"]["enum"]
