"""Image to SVG through the HTTP API: the SVG renders back to the picture it traced."""

from __future__ import annotations

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import RED, encode, post, run_tool, solid
from tests.tools.image.layout_helpers import get_bytes, near, rgb


def _render(admin: TestClient, body: dict) -> tuple[str, pyvips.Image]:
    text = get_bytes(admin, body["downloadUrl"]).decode()
    return text, pyvips.Image.svgload_buffer(text.encode(), dpi=72).copy_memory()


def test_colour_and_bw_tracing(admin: TestClient) -> None:
    picture = solid(60, 40, (255, 255, 255)).draw_rect(list(RED), 10, 10, 20, 20, fill=True)
    picture = picture.draw_rect([0, 0, 255], 40, 5, 15, 30, fill=True)
    data = encode(picture, ".png")
    body = run_tool(admin, "vectorize", data, {"colorMode": "color", "pathMode": "spline"}, "logo.png")
    assert body["downloadUrl"].split("?")[0].endswith("/logo.svg") and body["paths"] >= 3
    text, out = _render(admin, body)
    assert text.lstrip().startswith("<?xml") and "<path" in text and " C" in text  # spline curves
    assert (out.width, out.height) == (60, 40)
    assert near(rgb(out, 20, 20), RED) and near(rgb(out, 47, 20), (0, 0, 255)) and near(rgb(out, 2, 2), (255,) * 3)
    # Black and white with a threshold: red (luma ~54-76) is dark at 128, light at 40.
    text, out = _render(admin, run_tool(admin, "vectorize", data, {"colorMode": "bw", "pathMode": "polygon"}))
    assert near(rgb(out, 20, 20), (0, 0, 0)) and " C" not in text
    text, out = _render(admin, run_tool(admin, "vectorize", data, {"colorMode": "bw", "threshold": 10}))
    assert "<path" not in text or not near(rgb(out, 20, 20), (0, 0, 0))
    # A speckle filter larger than the squares removes them.
    dots = encode(solid(40, 40, (255, 255, 255)).draw_rect([0, 0, 0], 5, 5, 3, 3, fill=True), ".png")
    text, _ = _render(admin, run_tool(admin, "vectorize", dots, {"colorMode": "bw", "filterSpeckle": 20}))
    assert "<path" not in text
    text, _ = _render(admin, run_tool(admin, "vectorize", dots, {"colorMode": "bw", "filterSpeckle": 0}))
    assert "<path" in text
    assert_error(post(admin, "vectorize", data, {"pathMode": "bezier"}), 400, "VALIDATION_ERROR")
