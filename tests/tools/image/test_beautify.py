"""Beautify Screenshot through the HTTP API: backgrounds, padding, frames, social sizes and watermark."""

from __future__ import annotations

import json

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import RED, encode, fetch_image, post, run_tool, solid
from tests.tools.image.layout_helpers import near, ok, png, rgb

SHOT = (40, 120, 200)
PLAIN = {"shadowPreset": "none", "borderRadius": 0}


def test_solid_and_gradient_backgrounds(admin: TestClient) -> None:
    data = png(100, 60, SHOT)
    body = run_tool(
        admin,
        "beautify",
        data,
        {**PLAIN, "backgroundType": "solid", "backgroundColor": "#FF0000", "padding": 20},
        "shot.png",
    )
    out = fetch_image(admin, body)
    assert (out.width, out.height) == (140, 100) == (body["width"], body["height"])
    assert near(rgb(out, 2, 2), RED) and near(rgb(out, 70, 50), SHOT) and near(rgb(out, 19, 50), RED)
    # The default: a linear gradient from #667EEA (top left) to #764BA2 (bottom right), rounded, shadowed.
    out = fetch_image(admin, run_tool(admin, "beautify", data, {"padding": 40}))
    assert near(rgb(out, 0, 0), (0x66, 0x7E, 0xEA), 8) and near(
        rgb(out, out.width - 1, out.height - 1), (0x76, 0x4B, 0xA2), 8
    )
    assert not near(rgb(out, 40, 40), SHOT, 8)  # rounded corner: the background shows through
    radial = {**PLAIN, "backgroundType": "radial-gradient", "gradientStops": ["#FFFFFF", "#000000"], "padding": 30}
    out = fetch_image(admin, run_tool(admin, "beautify", data, radial))
    assert near(rgb(out, 0, 0), (0, 0, 0), 20) and sum(rgb(out, 80, 5)) > sum(rgb(out, 0, 0)) + 100
    out = fetch_image(admin, run_tool(admin, "beautify", data, {**PLAIN, "backgroundType": "transparent"}))
    assert out.bands == 4 and out(0, 0)[3] == 0 and out(out.width // 2, out.height // 2)[3] == 255
    assert_error(post(admin, "beautify", data, {"gradientStops": ["#FFF", "blue"]}), 400, "VALIDATION_ERROR")
    assert_error(post(admin, "beautify", data, {"frame": "amiga"}), 400, "VALIDATION_ERROR")


def test_frames_are_drawn(admin: TestClient) -> None:
    data = png(100, 60, SHOT)
    base = {**PLAIN, "backgroundType": "solid", "backgroundColor": "#FFFFFF", "padding": 10}
    out = fetch_image(admin, run_tool(admin, "beautify", data, {**base, "frame": "macos-light"}))
    # A 20 px title bar above the screenshot, the red traffic light at its left.
    assert (out.width, out.height) == (120, 100)
    assert near(rgb(out, 10 + 11, 10 + 10), (255, 95, 87), 30) and near(rgb(out, 60, 12), (232, 232, 234), 5)
    assert near(rgb(out, 60, 60), SHOT)
    out = fetch_image(admin, run_tool(admin, "beautify", data, {**base, "frame": "windows-dark"}))
    assert near(rgb(out, 12, 12), (32, 32, 32), 5)
    out = fetch_image(admin, run_tool(admin, "beautify", data, {**base, "frame": "iphone"}))
    assert near(rgb(out, 13, out.height // 2), (17, 17, 19), 10) and near(
        rgb(out, out.width // 2, out.height // 2), SHOT
    )
    for frame in ("browser-dark", "macbook", "ipad"):
        out = fetch_image(admin, run_tool(admin, "beautify", data, {**base, "frame": frame}))
        assert out.width > 120 or out.height > 80, frame
        assert near(rgb(out, out.width // 2, out.height // 2), SHOT), frame


def test_social_preset_watermark_format_and_image_background(admin: TestClient) -> None:
    data = png(100, 60, SHOT)
    settings = {"socialPreset": "instagram-square", "outputFormat": "jpeg", "backgroundType": "solid"}
    out = fetch_image(admin, run_tool(admin, "beautify", data, settings))
    assert (out.width, out.height) == (1080, 1080) and out.get("vips-loader") == "jpegload_buffer"
    assert near(rgb(out, 540, 540), SHOT, 10)
    # The watermark changes pixels in the bottom-right corner only.
    plain = {**PLAIN, "backgroundType": "solid", "backgroundColor": "#000000", "padding": 40}
    without = fetch_image(admin, run_tool(admin, "beautify", data, plain))
    marked = fetch_image(admin, run_tool(admin, "beautify", data, {**plain, "watermarkText": "lutra"}))
    corner = (marked.crop(100, 120, 80, 20) - without.crop(100, 120, 80, 20)).abs().max()
    assert corner > 100 and (marked.crop(0, 0, 60, 60) - without.crop(0, 0, 60, 60)).abs().max() == 0
    # backgroundType image with the second upload.
    r = admin.post(
        "/api/v1/tools/image/beautify",
        files={"file": ("s.png", data, "image/png"), "background": ("bg.png", png(30, 30, (0, 255, 0)), "image/png")},
        data={"settings": json.dumps({**PLAIN, "backgroundType": "image", "padding": 20})},
    )
    out = pyvips.Image.new_from_buffer(admin.get(ok(r)["downloadUrl"]).content, "")
    assert near(rgb(out, 3, 3), (0, 255, 0), 10)
    r = post(admin, "beautify", data, {"backgroundType": "image"})
    assert_error(r, 400, "NO_FILE")
    assert encode(solid(2, 2), ".png")  # helpers import stays used
