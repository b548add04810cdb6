"""Image compare through the HTTP API: scores for identical and different images, the three pictures."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import encode, fetch_image, post, solid
from tests.tools.image.overlay_helpers import ok, post_parts

GREY = (128, 128, 128)


def pair(a: bytes, b: bytes, field: str = "compare") -> list[tuple[str, str, bytes]]:
    return [("file", "a.png", a), (field, "b.png", b)]


def test_identical_images_score_zero(admin: TestClient) -> None:
    data = encode(solid(80, 60, GREY), ".png")
    body = ok(post_parts(admin, "compare", pair(data, data), {}))
    assert body["identical"] is True and body["similarity"] == 100
    assert body["diffPercent"] == 0 and body["meanAbsoluteDifference"] == 0
    assert body["dimensions"] == {"width": 80, "height": 60}


def test_a_changed_quarter_is_found_and_painted_red(admin: TestClient) -> None:
    base = solid(80, 60, GREY)
    changed = base.draw_rect([255, 255, 255], 40, 30, 40, 30, fill=True)
    body = ok(post_parts(admin, "compare", pair(encode(base, ".png"), encode(changed, ".png")), {"mode": "diff"}))
    assert body["diffPercent"] == 25 and body["differentPixels"] == 1200
    assert abs(body["meanAbsoluteDifference"] - 127 / 4) < 0.5
    out = fetch_image(admin, body)
    assert list(out(60, 45)) == [255, 0, 0] and list(out(10, 10)) != [255, 0, 0]
    # A threshold above the change hides it.
    quiet = ok(
        post_parts(admin, "compare", pair(encode(base, ".png"), encode(changed, ".png")), {"diffThreshold": 200})
    )
    assert quiet["diffPercent"] == 0 and quiet["meanAbsoluteDifference"] > 0


def test_side_by_side_and_overlay_and_two_files(admin: TestClient) -> None:
    a, b = encode(solid(50, 40, (0, 0, 0)), ".png"), encode(solid(50, 40, (200, 100, 0)), ".png")
    side = fetch_image(admin, ok(post_parts(admin, "compare", pair(a, b), {"mode": "side-by-side"})))
    assert side.width == 108 and list(side(10, 10)) == [0, 0, 0] and list(side(70, 10)) == [200, 100, 0]
    over = fetch_image(admin, ok(post_parts(admin, "compare", pair(a, b, "files"), {"mode": "overlay"})))
    assert list(over(10, 10)) == [100, 50, 0]


def test_compare_errors(admin: TestClient) -> None:
    data = encode(solid(20, 20, GREY), ".png")
    assert_error(post(admin, "compare", data, {}), 400, "NO_FILE")
    assert_error(post_parts(admin, "compare", pair(data, data), {"mode": "blink"}), 400, "VALIDATION_ERROR")
