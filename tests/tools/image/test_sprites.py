"""Sprite Sheet through the HTTP API: the sheet, its CSS and its JSON map agree with the pixels."""

from __future__ import annotations

import json
import re

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import BLUE, GREEN, RED
from tests.tools.image.layout_helpers import get_bytes, near, ok, png, post_files, rgb


def test_sheet_css_and_json_map(admin: TestClient) -> None:
    files = [("Icon A.png", png(16, 16, RED)), ("b.png", png(24, 8, GREEN)), ("c.png", png(10, 20, BLUE))]
    body = ok(post_files(admin, "sprite-sheet", files, {"columns": 2, "padding": 4}))
    downloads = {d["filename"]: d for d in body["downloads"]}
    assert set(downloads) == {"spritesheet.png", "spritesheet.css", "spritesheet.json"}
    sheet = pyvips.Image.new_from_buffer(get_bytes(admin, downloads["spritesheet.png"]["downloadUrl"]), "")
    # Columns are 16 and 24 wide, rows 16 and 20 tall, 4 px apart.
    assert (sheet.width, sheet.height) == (16 + 4 + 24, 16 + 4 + 20) and sheet.bands == 4
    mapping = json.loads(get_bytes(admin, downloads["spritesheet.json"]["downloadUrl"]))
    sprites = mapping["sprites"]
    assert sprites["icon-a"] == {"x": 0, "y": 0, "width": 16, "height": 16, "source": "Icon A.png"}
    assert (sprites["b"]["x"], sprites["b"]["y"]) == (20, 0) and (sprites["c"]["x"], sprites["c"]["y"]) == (0, 20)
    for name, colour in (("icon-a", RED), ("b", GREEN), ("c", BLUE)):
        box = sprites[name]
        assert near(rgb(sheet, box["x"] + 2, box["y"] + 2), colour)
    assert sheet(18, 2)[3] == 0  # padding stays transparent
    css = get_bytes(admin, downloads["spritesheet.css"]["downloadUrl"]).decode()
    assert "url('spritesheet.png')" in css
    assert re.search(r"\.sprite-c \{ width: 10px; height: 20px; background-position: 0px -20px; \}", css)
    assert ".sprite-b { width: 24px; height: 8px; background-position: -20px 0px; }" in css


def test_formats_background_and_counts(admin: TestClient) -> None:
    files = [("a.png", png(8, 8, RED)), ("a.png", png(8, 8, BLUE))]
    body = ok(post_files(admin, "sprite-sheet", files, {"format": "jpeg", "background": "#00FF00", "padding": 2}))
    assert body["downloadUrl"].split("?")[0].endswith("spritesheet.jpg") and set(body["sprites"]) == {"a", "a-2"}
    sheet = pyvips.Image.new_from_buffer(get_bytes(admin, body["downloadUrl"]), "")
    assert (sheet.width, sheet.height) == (18, 8) and near(rgb(sheet, 9, 4), GREEN, 40)
    assert_error(post_files(admin, "sprite-sheet", files[:1]), 400, "TOO_FEW_FILES")
    assert_error(post_files(admin, "sprite-sheet", [files[0]] * 65), 400, "TOO_MANY_FILES")
    assert_error(post_files(admin, "sprite-sheet", files, {"columns": 17}), 400, "VALIDATION_ERROR")
    schema = admin.get("/api/v1/tools/image/sprite-sheet").json()["settingsSchema"]
    assert schema["properties"]["format"]["enum"] == ["png", "webp", "jpeg"]
