"""Image to Base64, Histogram and LQIP placeholder through the HTTP API."""

from __future__ import annotations

import base64

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import download, encode, fetch_image, post, run_tool, solid


def test_base64_data_uri_and_plain(admin: TestClient) -> None:
    data = encode(solid(30, 20, (1, 2, 3)), ".png")
    body = run_tool(admin, "image-to-base64", data, {}, "dot.png")
    assert body["base64"] == "data:image/png;base64," + base64.b64encode(data).decode()
    assert body["mimeType"] == "image/png" and (body["width"], body["height"]) == (30, 20)
    assert download(admin, body).decode() == body["base64"]
    plain = run_tool(admin, "image-to-base64", data, {"format": "plain", "mimeType": "image/x-test"}, "dot.png")
    assert base64.b64decode(plain["base64"]) == data and plain["mimeType"] == "image/x-test"
    assert_error(post(admin, "image-to-base64", data, {"mimeType": "not a mime"}), 400, "VALIDATION_ERROR")


def test_histogram_counts_and_stats(admin: TestClient) -> None:
    image = solid(40, 10, (10, 20, 30)).draw_rect([200, 20, 30], 0, 0, 10, 10, fill=True)
    body = run_tool(admin, "histogram", encode(image, ".png"), {"scale": "log"}, "h.png")
    red, green = body["channels"]["red"], body["channels"]["green"]
    assert red["histogram"][10] == 300 and red["histogram"][200] == 100 and sum(red["histogram"]) == 400
    assert (red["min"], red["max"]) == (10, 200) and red["mean"] == 57.5
    assert green["stddev"] == 0 and green["histogram"][20] == 400
    chart = fetch_image(admin, body)
    assert chart.width > 512 and chart.bands == 3
    assert_error(post(admin, "histogram", encode(image, ".png"), {"scale": "cubic"}), 400, "VALIDATION_ERROR")


def test_lqip_strategies(admin: TestClient) -> None:
    source = solid(200, 100, (0, 0, 255)).draw_rect([255, 0, 0], 0, 0, 100, 100, fill=True)
    data = encode(source, ".jpg", Q=95)
    body = run_tool(admin, "lqip-placeholder", data, {"width": 20, "format": "png", "blur": 0}, "hero.jpg")
    assert (body["width"], body["height"]) == (20, 10)
    assert body["dataUri"].startswith("data:image/png;base64,")
    tiny = pyvips.Image.new_from_buffer(base64.b64decode(body["dataUri"].split(",", 1)[1]), "")
    assert tiny.width == 20 and tiny(2, 5)[0] > 200 and tiny(18, 5)[2] > 200
    assert download(admin, body) == base64.b64decode(body["dataUri"].split(",", 1)[1])

    solid_body = run_tool(admin, "lqip-placeholder", data, {"strategy": "solid", "format": "png"}, "hero.jpg")
    r, g, b = (int(solid_body["color"][i : i + 2], 16) for i in (1, 3, 5))
    assert abs(r - 127) < 12 and g < 12 and abs(b - 127) < 12
    flat = fetch_image(admin, solid_body)
    assert (flat.extract_band(0).max() - flat.extract_band(0).min()) == 0

    pixel = run_tool(admin, "lqip-placeholder", data, {"strategy": "pixelate", "width": 32}, "hero.jpg")
    assert pixel["dataUri"].startswith("data:image/webp;base64,") and pixel["width"] == 32
    assert_error(post(admin, "lqip-placeholder", data, {"width": 65}), 400, "VALIDATION_ERROR")
