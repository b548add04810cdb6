"""Compress through the HTTP API: quality mode, and targetSizeKb mode that really lands under the target."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import encode, fetch_image, loader, marked, noise, post, run_tool


def test_quality_mode_makes_a_jpeg_smaller(admin: TestClient) -> None:
    data = encode(noise(300, 200), ".jpg", Q=95)
    body = run_tool(admin, "compress", data, {"quality": 40}, "big.jpg")
    assert body["downloadUrl"].split("?")[0].endswith("/big_compressed.jpg")
    assert body["processedSize"] < len(data)
    assert body["quality"] == 40
    out = fetch_image(admin, body)
    assert loader(out) == "jpegload_buffer"
    assert (out.width, out.height) == (300, 200)


def test_quality_mode_never_grows_a_file(admin: TestClient) -> None:
    data = encode(noise(200, 200), ".jpg", Q=20)
    body = run_tool(admin, "compress", data, {"quality": 95})
    assert body["processedSize"] == len(data)
    assert body["keptOriginal"] is True


@pytest.mark.parametrize(
    ("suffix", "name", "expected_loader"),
    [(".jpg", "a.jpg", "jpegload_buffer"), (".webp", "a.webp", "webpload_buffer"), (".png", "a.png", "pngload_buffer")],
)
def test_target_size_lands_under_the_target(admin: TestClient, suffix: str, name: str, expected_loader: str) -> None:
    data = encode(noise(400, 300), suffix, **({"Q": 95} if suffix != ".png" else {}))
    target_kb = 30
    assert len(data) > target_kb * 1000
    body = run_tool(admin, "compress", data, {"mode": "targetSize", "targetSizeKb": target_kb}, name)
    assert body["targetReached"] is True
    assert body["processedSize"] <= target_kb * 1000
    assert body["achievedSizeKb"] <= target_kb
    out = fetch_image(admin, body)
    assert loader(out) == expected_loader


def test_target_size_uses_the_highest_quality_that_fits(admin: TestClient) -> None:
    data = encode(noise(400, 300), ".jpg", Q=95)
    loose = run_tool(admin, "compress", data, {"mode": "targetSize", "targetSizeKb": len(data) / 1000 * 0.8})
    tight = run_tool(admin, "compress", data, {"mode": "targetSize", "targetSizeKb": 25})
    assert loose["targetReached"] and tight["targetReached"]
    assert tight["quality"] < loose["quality"]


def test_already_small_enough_is_returned_as_is(admin: TestClient) -> None:
    data = encode(marked(50, 50), ".jpg")
    body = run_tool(admin, "compress", data, {"mode": "targetSize", "targetSizeKb": 500})
    assert body["targetReached"] is True
    assert body["processedSize"] == len(data)


def test_unreachable_target_is_reported(admin: TestClient) -> None:
    data = encode(noise(200, 200), ".jpg", Q=95)
    body = run_tool(admin, "compress", data, {"mode": "targetSize", "targetSizeKb": 0.1})
    assert body["targetReached"] is False
    assert body["achievedSizeKb"] > 0.1
    assert body["processedSize"] < len(data)  # still the smallest it could make


def test_tiff_becomes_jpeg(admin: TestClient) -> None:
    data = encode(noise(120, 80), ".tif")
    body = run_tool(admin, "compress", data, {"quality": 60}, "scan.tif")
    assert body["downloadUrl"].split("?")[0].endswith("/scan_compressed.jpg")
    assert loader(fetch_image(admin, body)) == "jpegload_buffer"


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"mode": "targetSize"}, "targetSizeKb"),
        ({"mode": "smallest"}, "mode"),
        ({"quality": 0}, "quality"),
        ({"mode": "targetSize", "targetSizeKb": -5}, "targetSizeKb"),
    ],
)
def test_invalid_settings(admin: TestClient, settings: dict, needle: str) -> None:
    body = assert_error(post(admin, "compress", encode(marked(40, 30), ".jpg"), settings), 400, "VALIDATION_ERROR")
    assert needle in body["error"]
