"""Adjustment tools through the HTTP API: adjust-colors, sharpening, replace-color, color-blindness,
duotone, pixelate and vignette, checked on the pixels they write."""

from __future__ import annotations

import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import (
    BLUE,
    GREEN,
    RED,
    close,
    encode,
    fetch_image,
    loader,
    marked,
    noise,
    pixel,
    post,
    run_tool,
    solid,
)


def png(image: pyvips.Image) -> bytes:
    return encode(image, ".png")


def quad() -> pyvips.Image:
    """40x40: red, green, blue and grey quarters."""
    image = solid(40, 40, (128, 128, 128))
    image = image.draw_rect(list(RED), 0, 0, 20, 20, fill=True)
    image = image.draw_rect(list(GREEN), 20, 0, 20, 20, fill=True)
    return image.draw_rect(list(BLUE), 0, 20, 20, 20, fill=True)


def adjusted(admin: TestClient, settings: dict, image: pyvips.Image | None = None) -> pyvips.Image:
    body = run_tool(admin, "adjust-colors", png(image or quad()), settings, "q.png")
    return fetch_image(admin, body)


# --- adjust-colors ---------------------------------------------------------------------------------


def test_adjust_colors_each_setting_moves_pixels_the_right_way(admin: TestClient) -> None:
    grey = solid(20, 20, (100, 100, 100))
    assert pixel(adjusted(admin, {"brightness": 50}, grey), 5, 5)[0] == pytest.approx(150, abs=2)
    assert pixel(adjusted(admin, {"brightness": -50}, grey), 5, 5)[0] == pytest.approx(50, abs=2)
    assert pixel(adjusted(admin, {"exposure": 50}, grey), 5, 5)[0] > 125  # +1 stop in linear light
    assert pixel(adjusted(admin, {"contrast": -100}, grey), 5, 5)[0] == pytest.approx(128, abs=1)
    assert pixel(adjusted(admin, {"contrast": 100}, grey), 5, 5)[0] == pytest.approx(72, abs=2)

    out = adjusted(admin, {"saturation": -100})
    r, g, b = pixel(out, 5, 5)[:3]
    assert abs(r - g) < 2 and abs(g - b) < 2  # red quarter went grey
    assert pixel(adjusted(admin, {"saturation": 50}, solid(10, 10, (150, 100, 100))), 2, 2)[0] > 160

    warm = pixel(adjusted(admin, {"temperature": 60}, grey), 5, 5)
    cool = pixel(adjusted(admin, {"temperature": -60}, grey), 5, 5)
    assert warm[0] > 110 and warm[2] < 90 and cool[0] < 90 and cool[2] > 110
    magenta = pixel(adjusted(admin, {"tint": 60}, grey), 5, 5)
    assert magenta[1] < 90 and magenta[0] == pytest.approx(100, abs=2)

    channels = adjusted(admin, {"red": -100, "green": 50, "blue": 20}, grey)
    assert close(pixel(channels, 5, 5), (0, 150, 120), 3)

    rotated = adjusted(admin, {"hue": 180})
    r, g, b = pixel(rotated, 5, 5)[:3]
    assert r < g and r < b  # red turned cyan-ish
    assert close(pixel(rotated, 30, 30), (128, 128, 128), 3)  # grey has no hue to turn


def test_adjust_colors_effects(admin: TestClient) -> None:
    grey_out = adjusted(admin, {"effect": "grayscale"})
    r, g, b = pixel(grey_out, 5, 5)[:3]
    assert r == g == b and r == pytest.approx(0.2126 * 255, abs=2)  # luma of pure red
    assert close(pixel(adjusted(admin, {"effect": "invert"}), 5, 5), (0, 255, 255), 1)
    sepia = pixel(adjusted(admin, {"effect": "sepia"}, solid(10, 10, (128, 128, 128))), 2, 2)
    assert sepia[0] > sepia[1] > sepia[2]
    assert loader(grey_out) == "pngload_buffer"


def test_adjust_colors_sharpness_keeps_alpha_and_format(admin: TestClient) -> None:
    image = marked(60, 40).bandjoin(128).copy(interpretation="srgb")
    body = run_tool(admin, "adjust-colors", encode(image, ".webp", lossless=True), {"sharpness": 80}, "a.webp")
    out = fetch_image(admin, body)
    assert loader(out) == "webpload_buffer" and out.bands == 4
    assert pixel(out, 30, 20)[3] == 128
    # Sharpening overshoots at the edge of the red square; flat grey stays put.
    assert pixel(out, 10, 5)[0] > 128 or pixel(out, 11, 5)[0] < 128
    assert close(pixel(out, 40, 20), (128, 128, 128), 2)


def test_adjust_colors_rejects_out_of_range(admin: TestClient) -> None:
    r = post(admin, "adjust-colors", png(quad()), {"brightness": 101})
    assert "brightness" in assert_error(r, 400, "VALIDATION_ERROR")["error"]
    r = post(admin, "adjust-colors", png(quad()), {"effect": "vintage"})
    assert "effect" in assert_error(r, 400, "VALIDATION_ERROR")["error"]
    schema = admin.get("/api/v1/tools/image/adjust-colors").json()["settingsSchema"]
    assert schema["properties"]["effect"]["enum"] == ["none", "grayscale", "sepia", "invert"]
    assert len(schema["properties"]) == 12


# --- sharpening ------------------------------------------------------------------------------------


def edge_contrast(image: pyvips.Image) -> float:
    """Mean absolute horizontal gradient: grows when an image gets sharper."""
    grey = image.colourspace("b-w")[0].cast("float")
    return (grey.crop(1, 0, grey.width - 1, grey.height) - grey.crop(0, 0, grey.width - 1, grey.height)).abs().avg()


@pytest.mark.parametrize(
    "settings",
    [
        {"method": "adaptive", "sigma": 1.5, "m2": 4},
        {"method": "unsharp-mask", "amount": 200, "radius": 2},
        {"method": "high-pass", "strength": 60, "kernelSize": 5},
    ],
)
def test_sharpening_methods_raise_edge_contrast(admin: TestClient, settings: dict) -> None:
    soft = marked(80, 60, 30).gaussblur(1.5).cast("uchar")
    body = run_tool(admin, "sharpening", png(soft), settings, "soft.png")
    out = fetch_image(admin, body)
    assert (out.width, out.height) == (80, 60)
    assert edge_contrast(out) > edge_contrast(soft) * 1.1
    assert body["method"] == settings["method"]


def test_sharpening_threshold_and_denoise(admin: TestClient) -> None:
    speckled = solid(60, 60, (128, 128, 128)).draw_rect([255, 255, 255], 30, 30, 1, 1, fill=True)
    # Denoising removes the lone white pixel before sharpening could make it worse.
    body = run_tool(admin, "sharpening", png(speckled), {"denoise": "light"}, "s.png")
    assert close(pixel(fetch_image(admin, body), 30, 30), (128, 128, 128), 3)
    # A threshold above the detail's size leaves a soft gradient untouched.
    ramp = (pyvips.Image.xyz(64, 16)[0] + 96).cast("uchar").bandjoin([0, 0])[0:1]
    ramp = ramp.bandjoin([ramp, ramp]).copy(interpretation="srgb")
    body = run_tool(admin, "sharpening", png(ramp), {"method": "unsharp-mask", "amount": 300, "threshold": 10})
    assert fetch_image(admin, body).crop(4, 0, 56, 16).avg() == pytest.approx(ramp.crop(4, 0, 56, 16).avg(), abs=0.5)
    r = post(admin, "sharpening", png(ramp), {"kernelSize": 7})
    assert "kernelSize" in assert_error(r, 400, "VALIDATION_ERROR")["error"]


# --- replace-color ---------------------------------------------------------------------------------


def test_replace_color_recolours_matches_only(admin: TestClient) -> None:
    image = quad().draw_rect([240, 20, 20], 0, 0, 5, 5, fill=True)  # a near-red patch
    settings = {"sourceColor": "#FF0000", "targetColor": "#0000FF", "tolerance": 10}
    body = run_tool(admin, "replace-color", png(image), settings, "q.png")
    out = fetch_image(admin, body)
    assert close(pixel(out, 10, 10), BLUE, 0)
    assert close(pixel(out, 2, 2), (0, 20, 255), 1)  # shifted by the same offset (clipped)
    assert close(pixel(out, 30, 10), GREEN, 0) and close(pixel(out, 30, 30), (128, 128, 128), 0)
    assert body["matchedPercent"] == pytest.approx(25, abs=0.1)

    exact = run_tool(admin, "replace-color", png(image), {**settings, "tolerance": 0}, "q.png")
    assert close(pixel(fetch_image(admin, exact), 2, 2), (240, 20, 20), 0)


def test_replace_color_make_transparent_turns_jpeg_into_png(admin: TestClient) -> None:
    body = run_tool(admin, "replace-color", encode(quad(), ".jpg", Q=95), {"makeTransparent": True}, "q.jpg")
    assert body["downloadUrl"].split("?")[0].endswith("/q_replaced.png")
    out = fetch_image(admin, body)
    assert out.bands == 4
    assert pixel(out, 10, 10)[3] == 0 and pixel(out, 30, 10)[3] == 255
    r = post(admin, "replace-color", png(quad()), {"sourceColor": "red"})
    assert "sourceColor" in assert_error(r, 400, "VALIDATION_ERROR")["error"]


# --- color-blindness -------------------------------------------------------------------------------


def test_color_blindness_all_types(admin: TestClient) -> None:
    schema = admin.get("/api/v1/tools/image/color-blindness").json()["settingsSchema"]
    kinds = schema["properties"]["simulationType"]["enum"]
    assert len(kinds) == 8 and schema["properties"]["simulationType"]["default"] == "deuteranomaly"
    data = png(quad())
    seen = {}
    for kind in kinds:
        body = run_tool(admin, "color-blindness", data, {"simulationType": kind}, "q.png")
        assert body["downloadUrl"].split("?")[0].endswith(f"/q_{kind}.png")
        out = fetch_image(admin, body)
        seen[kind] = [pixel(out, 10, 10)[:3], pixel(out, 30, 10)[:3], pixel(out, 30, 30)[:3]]
        assert close(seen[kind][2], (128, 128, 128), 2)  # neutral grey stays grey for every type
    red, green = seen["deuteranopia"][0], seen["deuteranopia"][1]
    for yellowish in (red, green):  # red and green both become yellows (R close to G, little blue)
        assert abs(yellowish[0] - yellowish[1]) < 30 and yellowish[2] < 70
    # Machado protanopia on pure red, computed by hand: linear (0.152, 0.115, 0) -> sRGB.
    assert close(seen["protanopia"][0], (109, 95, 0), 3)
    assert seen["protanomaly"][0][0] > seen["protanopia"][0][0]  # milder than the -opia form
    for kind in ("achromatopsia", "blueConeMonochromacy"):
        r, g, b = seen[kind][0]
        assert r == g == b
    assert seen["achromatopsia"][1][0] > seen["blueConeMonochromacy"][1][0]  # green is dark without M/L cones
    plain = run_tool(admin, "color-blindness", data, {}, "q.png")
    assert close(pixel(fetch_image(admin, plain), 10, 10), seen["deuteranomaly"][0], 0)


# --- duotone ---------------------------------------------------------------------------------------


def test_duotone_maps_black_and_white_to_the_two_colours(admin: TestClient) -> None:
    image = solid(40, 20, (0, 0, 0)).draw_rect([255, 255, 255], 20, 0, 20, 20, fill=True)
    settings = {"shadow": "#102030", "highlight": "#F0E0D0"}
    out = fetch_image(admin, run_tool(admin, "duotone", png(image), settings, "bw.png"))
    assert close(pixel(out, 5, 5), (0x10, 0x20, 0x30), 1)
    assert close(pixel(out, 30, 5), (0xF0, 0xE0, 0xD0), 1)
    half = fetch_image(admin, run_tool(admin, "duotone", png(image), {**settings, "intensity": 50}, "bw.png"))
    assert close(pixel(half, 5, 5), (8, 16, 24), 1)
    r = post(admin, "duotone", png(image), {"intensity": 150})
    assert "intensity" in assert_error(r, 400, "VALIDATION_ERROR")["error"]


# --- pixelate --------------------------------------------------------------------------------------


def flat(image: pyvips.Image) -> bool:
    return all(band.max() == band.min() for band in image.bandsplit())


def test_pixelate_whole_image_makes_uniform_blocks(admin: TestClient) -> None:
    image = noise(64, 48)
    out = fetch_image(admin, run_tool(admin, "pixelate", png(image), {"blockSize": 16}, "n.png"))
    assert (out.width, out.height) == (64, 48)
    assert flat(out.crop(16, 16, 16, 16))
    assert pixel(out, 16, 16)[0] == pytest.approx(image.crop(16, 16, 16, 16)[0].avg(), abs=1)


def test_pixelate_region_only(admin: TestClient) -> None:
    image = noise(80, 60)
    settings = {"blockSize": 8, "region": {"left": 16, "top": 8, "width": 32, "height": 24}}
    body = run_tool(admin, "pixelate", png(image), settings, "n.png")
    out = fetch_image(admin, body)
    assert flat(out.crop(16, 8, 8, 8)) and flat(out.crop(40, 24, 8, 8))
    assert not flat(out.crop(0, 40, 8, 8))
    assert out.crop(0, 40, 80, 20).avg() == image.crop(0, 40, 80, 20).avg()  # outside untouched
    assert body["region"] == {"left": 16, "top": 8, "width": 32, "height": 24}
    for bad in ({"blockSize": 1}, {"blockSize": 129}, {"region": {"left": 0, "top": 0, "width": 0, "height": 4}}):
        assert_error(post(admin, "pixelate", png(image), bad), 400, "VALIDATION_ERROR")
    off = post(admin, "pixelate", png(image), {"region": {"left": 500, "top": 0, "width": 10, "height": 10}})
    assert_error(off, 422)


# --- vignette --------------------------------------------------------------------------------------


def test_vignette_darkens_corners_not_centre(admin: TestClient) -> None:
    image = solid(100, 60, (200, 200, 200))
    out = fetch_image(admin, run_tool(admin, "vignette", png(image), {"strength": 1}, "v.png"))
    assert close(pixel(out, 50, 30), (200, 200, 200), 1)
    assert pixel(out, 0, 0)[0] < 30  # corner fully faded at strength 1
    tinted = fetch_image(admin, run_tool(admin, "vignette", png(image), {"color": "#FF0000", "strength": 0.5}))
    r, g, _ = pixel(tinted, 0, 0)[:3]
    assert r > 200 and g < 150
    moved = fetch_image(admin, run_tool(admin, "vignette", png(image), {"centerX": 0, "centerY": 0, "strength": 1}))
    assert close(pixel(moved, 1, 1), (200, 200, 200), 2) and pixel(moved, 99, 59)[0] < 30
    # Roundness 0 follows the frame, so the near top edge fades as much as the far side edges;
    # a circle (100) leaves the near top edge lighter.
    circle = fetch_image(admin, run_tool(admin, "vignette", png(image), {"roundness": 100, "radius": 40}))
    ellipse = fetch_image(admin, run_tool(admin, "vignette", png(image), {"roundness": 0, "radius": 40}))
    assert pixel(circle, 50, 0)[0] > pixel(ellipse, 50, 0)[0]
    assert_error(post(admin, "vignette", png(image), {"strength": 0.05}), 400, "VALIDATION_ERROR")


def test_adjustments_keep_animation(admin: TestClient) -> None:
    frames = [solid(20, 20, (200, 50, 50)), solid(20, 20, (50, 200, 50))]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", 20)
    data = strip.write_to_buffer(".gif")
    body = run_tool(admin, "adjust-colors", data, {"effect": "invert"}, "a.gif")
    out = pyvips.Image.new_from_buffer(admin.get(body["downloadUrl"]).content, "", n=-1)
    assert out.get("n-pages") == 2 and out.height == 40
    assert close(pixel(out, 5, 25), (205, 55, 205), 12)
