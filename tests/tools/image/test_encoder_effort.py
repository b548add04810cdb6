"""The encoder effort setting of convert (and its presets): accepted per format, validated, applied."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.engine.media import vips
from tests.assertions import assert_error
from tests.tools.image.helpers import download, encode, noise, post, run_tool


def _convert(client: TestClient, data: bytes, settings: dict) -> bytes:
    return download(client, run_tool(client, "convert", data, settings, "pic.png"))


@pytest.mark.parametrize(("target", "low", "high"), [("avif", 0, 8), ("webp", 0, 6)])
def test_effort_changes_the_encoding(admin: TestClient, target: str, low: int, high: int) -> None:
    data = encode(noise(96, 64), ".png")
    fast = _convert(admin, data, {"format": target, "quality": 50, "effort": low})
    slow = _convert(admin, data, {"format": target, "quality": 50, "effort": high})
    assert fast != slow
    # Unset means Lutra's measured default, byte for byte the same as asking for it.
    default = _convert(admin, data, {"format": target, "quality": 50})
    assert default == _convert(admin, data, {"format": target, "quality": 50, "effort": vips.DEFAULT_EFFORT[target]})


def test_avif_default_effort_is_the_fast_one() -> None:
    # 12 MP photos at q50: effort 2 is several times faster than libvips' own default 4 (bench/encoder_table.py).
    _, options = vips.save_options(vips.FORMATS["avif"], 50)
    assert options["effort"] == 2 and options["compression"] == "av1"


@pytest.mark.parametrize(
    "settings",
    [{"format": "webp", "effort": 7}, {"format": "avif", "effort": 10}, {"format": "avif", "effort": -1},
     {"format": "heic", "effort": "max"}],
)  # fmt: skip
def test_out_of_range_effort_is_a_400(admin: TestClient, settings: dict) -> None:
    body = assert_error(post(admin, "convert", encode(noise(32, 32), ".png"), settings), 400, "VALIDATION_ERROR")
    assert "effort" in str(body)


def test_effort_is_ignored_by_formats_without_one(admin: TestClient) -> None:
    out = _convert(admin, encode(noise(32, 32), ".png"), {"format": "png", "effort": 9})
    assert out[:8] == b"\x89PNG\r\n\x1a\n"


def test_preset_passes_effort_to_convert(admin: TestClient) -> None:
    data = encode(noise(96, 64), ".png")

    def preset(effort: int) -> bytes:
        body = run_tool(admin, "png-to-webp", data, {"quality": 50, "effort": effort}, "pic.png")
        return download(admin, body)

    assert preset(0) != preset(6)
    assert_error(post(admin, "png-to-webp", data, {"effort": 8}, "pic.png"), 400, "VALIDATION_ERROR")
