"""GIF/WebP conversion and GIF Tools through the HTTP API: frames, timing, sizes and colours survive."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.gif_helpers import FRAME_COLOURS, animation, frames_of
from tests.tools.image.helpers import encode, loader, post, run_tool, solid
from tests.tools.image.layout_helpers import get_bytes, near, rgb


def test_gif_to_webp_and_back(admin: TestClient) -> None:
    body = run_tool(admin, "gif-webp", animation(), {"quality": 90}, "anim.gif")
    assert body["downloadUrl"].endswith("/anim.webp") and body["frames"] == 3
    webp = get_bytes(admin, body["downloadUrl"])
    image, frames = frames_of(webp)
    assert loader(image) == "webpload_buffer" and len(frames) == 3
    assert list(image.get("delay")) == [100, 200, 300] and image.get("loop") == 0
    for frame, colour in zip(frames, FRAME_COLOURS, strict=True):
        assert near(rgb(frame, 10, 10), colour, 20)
    lossless = get_bytes(admin, run_tool(admin, "gif-webp", animation(), {"lossless": True})["downloadUrl"])
    assert all(rgb(f, 5, 5) == list(map(float, c)) for f, c in zip(frames_of(lossless)[1], FRAME_COLOURS, strict=True))
    # WebP back to GIF, at half size.
    body = run_tool(admin, "gif-webp", webp, {"resizePercent": 50}, "anim.webp")
    image, frames = frames_of(get_bytes(admin, body["downloadUrl"]))
    assert loader(image) == "gifload_buffer" and len(frames) == 3 and (frames[0].width, frames[0].height) == (10, 10)
    assert list(image.get("delay")) == [100, 200, 300] and near(rgb(frames[2], 5, 5), (0, 0, 255), 20)
    assert_error(post(admin, "gif-webp", animation(), {"resizePercent": 5}), 400, "VALIDATION_ERROR")
    assert_error(post(admin, "gif-webp", encode(solid(8, 8), ".png"), {}), 415)
