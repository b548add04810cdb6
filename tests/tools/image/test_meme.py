"""Meme generator (template and custom modes) and the meme-template routes, through the HTTP API."""

from __future__ import annotations

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import encode, fetch_image, run_tool, solid
from tests.tools.image.overlay_helpers import ok, post_json, region

MEME_FONTS = {"anton", "arial-black", "comic-sans", "montserrat", "bebas-neue", "permanent-marker", "roboto"}


def test_template_listing_and_files(admin: TestClient, client: TestClient) -> None:
    listing = admin.get("/api/v1/meme-templates").json()
    assert 5 <= len(listing["templates"]) <= 8
    first = listing["templates"][0]
    assert {"id", "name", "filename", "width", "height", "textBoxes", "url", "thumbnailUrl"} <= set(first)
    assert all({"id", "x", "y", "width", "height"} <= set(b) for t in listing["templates"] for b in t["textBoxes"])
    full = admin.get(first["url"])
    assert full.status_code == 200 and full.headers["content-type"] == "image/png"
    image = pyvips.Image.new_from_buffer(full.content, "")
    assert (image.width, image.height) == (first["width"], first["height"])
    thumb = pyvips.Image.new_from_buffer(admin.get(first["thumbnailUrl"]).content, "")
    assert thumb.width < image.width

    assert {f["id"] for f in listing["fonts"]} == MEME_FONTS
    font = admin.get(listing["fonts"][0]["url"])
    assert font.status_code == 200 and font.headers["content-type"].startswith("font/")
    assert font.content[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true")

    for bad in ("nope.png", "..%2Fmanifest.json", "manifest.json", "%2E%2E", "%00.png"):
        assert admin.get(f"/api/v1/meme-templates/full/{bad}").status_code == 404
        assert admin.get(f"/api/v1/meme-templates/fonts/{bad}").status_code == 404
    admin.headers.pop("Authorization")
    assert admin.get("/api/v1/meme-templates").status_code == 401
    assert admin.get(f"/api/v1/meme-templates/full/{first['filename']}").status_code == 401


def test_template_mode_json_body(admin: TestClient) -> None:
    settings = {
        "templateId": "classic",
        "textBoxes": [{"id": "top", "text": "hello"}, {"id": "bottom", "text": "world"}],
    }
    body = ok(post_json(admin, "meme-generator", settings))
    assert body["downloadUrl"].split("?")[0].endswith("/meme-classic.png")
    assert [b["id"] for b in body["textBoxes"]] == ["top", "bottom"]
    assert body["textBoxes"][0]["text"] == "hello"
    out = fetch_image(admin, body)
    plain = pyvips.Image.new_from_buffer(admin.get("/api/v1/meme-templates/full/classic.png").content, "")
    assert (out.width, out.height) == (plain.width, plain.height)
    # White text with a black stroke in the top box; the middle of the picture is untouched.
    top = region(out, 0, 0, out.width, round(out.height * 0.22))
    assert top.extract_band(0, n=3).max() == 255 and top.extract_band(0, n=3).min() < 20
    middle = (region(out, 0, 250, 600, 100).cast("int") - region(plain.colourspace("srgb"), 0, 250, 600, 100)).abs()
    assert middle.max() == 0


def test_custom_image_mode_with_layouts(admin: TestClient) -> None:
    data = encode(solid(240, 160, (90, 90, 90)), ".jpg", Q=95)
    settings = {
        "textLayout": "side-by-side",
        "textBoxes": [{"id": "left", "text": "a"}, {"id": "right", "text": "b"}],
        "fontFamily": "comic-sans",
        "textColor": "#ff0000",
        "allCaps": False,
        "fontSize": 30,
    }
    body = run_tool(admin, "meme-generator", data, settings, "cat.jpg")
    assert body["downloadUrl"].split("?")[0].endswith("/cat_meme.jpg")
    left, right = body["textBoxes"]
    assert left["x"] < 120 <= right["x"] and left["fontSize"] == 30
    out = fetch_image(admin, body)
    red = (out[0] > 200) & (out[1] < 80)
    assert red.crop(0, 0, 120, 160).max() == 255 and red.crop(120, 0, 120, 160).max() == 255
    # Ids that no box has still land in the layout's boxes, in order.
    body = run_tool(admin, "meme-generator", data, {"textBoxes": [{"id": "1", "text": "x"}]}, "cat.jpg")
    assert [b["id"] for b in body["textBoxes"]] == ["top"]


def test_every_font_renders(admin: TestClient) -> None:
    for family in sorted(MEME_FONTS):
        settings = {"templateId": "comparison", "fontFamily": family, "textBoxes": [{"id": "left", "text": "Wow"}]}
        body = ok(post_json(admin, "meme-generator", settings))
        assert body["textBoxes"][0]["width"] > 10, family


def test_meme_errors(admin: TestClient) -> None:
    body = assert_error(post_json(admin, "meme-generator", {"templateId": "nope"}), 400, "VALIDATION_ERROR")
    assert "templateId" in body["error"] + str(body.get("details"))
    assert_error(post_json(admin, "meme-generator", {"textBoxes": []}), 400)
    assert_error(post_json(admin, "meme-generator", {"fontFamily": "papyrus", "templateId": "classic"}), 400)
    schema = admin.get("/api/v1/tools/image/meme-generator").json()["settingsSchema"]
    assert set(schema["properties"]["fontFamily"]["enum"]) == MEME_FONTS
    assert "side-by-side" in schema["properties"]["textLayout"]["enum"]
