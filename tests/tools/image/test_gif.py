"""GIF/WebP conversion and GIF Tools through the HTTP API: frames, timing, sizes and colours survive."""

from __future__ import annotations

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.gif_helpers import FRAME_COLOURS, animation, frames_of
from tests.tools.image.helpers import encode, loader, post, run_tool, solid
from tests.tools.image.layout_helpers import get_bytes, near, rgb, zip_entries


def test_gif_to_webp_and_back(admin: TestClient) -> None:
    body = run_tool(admin, "gif-webp", animation(), {"quality": 90}, "anim.gif")
    assert body["downloadUrl"].split("?")[0].endswith("/anim.webp") and body["frames"] == 3
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


def _run(admin: TestClient, settings: dict, data: bytes | None = None) -> tuple[dict, list]:
    body = run_tool(admin, "gif-tools", data or animation(size=20), settings, "anim.gif")
    image, frames = frames_of(get_bytes(admin, body["downloadUrl"]))
    return {**body, "delay": list(image.get("delay")) if image.get_typeof("delay") else None}, frames


def test_gif_info_route(admin: TestClient) -> None:
    r = admin.post(
        "/api/v1/tools/image/gif-tools/info",
        files={"file": ("a.gif", animation(delays=(100, 200, 300), loop=3), "image/gif")},
        data={"settings": "{}"},
    )
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["frameCount"] == 3 and (info["width"], info["height"]) == (20, 20)
    assert info["duration"] == 600 and info["loop"] == 3 and info["delays"] == [100, 200, 300]


def test_gif_actions(admin: TestClient) -> None:
    body, frames = _run(admin, {"action": "reverse"})
    assert [near(rgb(f, 5, 5), c, 20) for f, c in zip(frames, reversed(FRAME_COLOURS), strict=True)] == [True] * 3
    assert body["delay"] == [300, 200, 100]
    body, frames = _run(admin, {"action": "speed", "speedFactor": 2})
    assert body["delay"] == [50, 100, 150] and body["duration"] == 300 and len(frames) == 3
    body, frames = _run(admin, {"action": "resize", "width": 10})
    assert (frames[0].width, frames[0].height) == (10, 10) and len(frames) == 3 and body["delay"] == [100, 200, 300]
    tall = animation(size=20)
    body, frames = _run(admin, {"action": "rotate", "angle": 90, "flip": "horizontal"}, tall)
    assert len(frames) == 3 and near(rgb(frames[1], 5, 5), FRAME_COLOURS[1], 20)
    body, frames = _run(admin, {"action": "optimize", "colors": 16, "lossy": 50})
    assert len(frames) == 3 and near(rgb(frames[2], 5, 5), (0, 0, 255), 30)
    body, frames = _run(
        admin, {"action": "add-text", "text": "HI", "fontSize": 14, "position": "center"}, animation(size=60)
    )
    # White letters with a black outline appear in the middle of every frame, the corners stay.
    for frame, colour in zip(frames, FRAME_COLOURS, strict=True):
        middle = frame.crop(15, 20, 30, 20)
        assert middle.max() >= 240 and middle.min() <= 20 and near(rgb(frame, 2, 2), colour, 20)
    body = run_tool(admin, "gif-tools", animation(), {"action": "extract-frames", "frameStart": 2})
    frames_zip = zip_entries(get_bytes(admin, body["downloadUrl"]))
    assert sorted(frames_zip) == ["input_frame_002.png", "input_frame_003.png"] and body["extracted"] == 2
    assert near(rgb(pyvips.Image.new_from_buffer(frames_zip["input_frame_003.png"], ""), 3, 3), (0, 0, 255), 5)
    assert_error(post(admin, "gif-tools", animation(), {"action": "explode"}), 400, "VALIDATION_ERROR")
    assert_error(post(admin, "gif-tools", animation(), {"action": "add-text"}), 422, "PROCESSING_FAILED")
