"""Layout tools through the HTTP API: collage, stitch, split, border, circle-crop and image-pad."""

from __future__ import annotations

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import BLUE, GREEN, RED, encode, fetch_image, marked, post, run_tool, solid
from tests.tools.image.layout_helpers import image_at, near, ok, png, post_files, rgb, zip_entries

YELLOW = (255, 255, 0)
BLACK = (0, 0, 0)
WHITE = (255, 255, 255)


def _four() -> list[tuple[str, bytes]]:
    return [(f"{i}.png", png(40, 30, c)) for i, c in enumerate((RED, GREEN, BLUE, YELLOW))]


def test_collage_grid_places_each_image_in_its_cell(admin: TestClient) -> None:
    settings = {"template": "grid-2x2", "gap": 10, "backgroundColor": "#000000", "width": 200, "format": "png"}
    body = ok(post_files(admin, "collage", _four(), settings))
    out = image_at(admin, body["downloadUrl"])
    assert (out.width, out.height) == (200, 200) == (body["width"], body["height"])
    for (x, y), colour in {(50, 50): RED, (150, 50): GREEN, (50, 150): BLUE, (150, 150): YELLOW}.items():
        assert near(rgb(out, x, y), colour), (x, y, rgb(out, x, y))
    for x, y in ((3, 3), (100, 50), (50, 100), (197, 197)):  # outer margin and the gaps
        assert near(rgb(out, x, y), BLACK), (x, y)


def test_collage_templates_counts_and_radius(admin: TestClient) -> None:
    files = _four()[:3]
    # One big image on the left (red), two stacked on the right.
    settings = {"template": "big-left-2", "gap": 0, "width": 300, "format": "png", "borderRadius": 20}
    out = image_at(admin, ok(post_files(admin, "collage", files, settings))["downloadUrl"])
    assert (out.width, out.height) == (300, 200)
    assert near(rgb(out, 75, 100), RED) and near(rgb(out, 225, 50), GREEN) and near(rgb(out, 225, 150), BLUE)
    assert near(rgb(out, 1, 1), WHITE)  # rounded corner shows the background
    # auto: 3 images in a 2x2 grid, the fourth cell stays background.
    out = image_at(admin, ok(post_files(admin, "collage", files, {"width": 200, "format": "png"}))["downloadUrl"])
    assert near(rgb(out, 150, 150), WHITE) and near(rgb(out, 50, 150), BLUE)
    # A template takes exactly its number of images; the upload limits are 2-25.
    r = post_files(admin, "collage", files, {"template": "grid-3x3"})
    assert "9" in assert_error(r, 400, "WRONG_FILE_COUNT")["error"]
    assert_error(post_files(admin, "collage", files[:1]), 400, "TOO_FEW_FILES")
    assert_error(post_files(admin, "collage", [files[0]] * 26), 400, "TOO_MANY_FILES")
    assert_error(post_files(admin, "collage", files, {"template": "nope"}), 400, "VALIDATION_ERROR")
    schema = admin.get("/api/v1/tools/image/collage").json()["settingsSchema"]
    templates = schema["properties"]["template"]["enum"]
    assert len(templates) >= 26 and "grid-5x5" in templates and "mosaic-2-3" in templates


def test_stitch_directions_and_alignment(admin: TestClient) -> None:
    files = [("a.png", png(40, 20, RED)), ("b.png", png(30, 40, BLUE))]
    settings = {"direction": "horizontal", "gap": 10, "backgroundColor": "#00FF00", "resizeMode": "original"}
    for alignment, red_y in (("start", 5), ("end", 35)):
        body = ok(post_files(admin, "stitch", files, {**settings, "alignment": alignment}))
        out = image_at(admin, body["downloadUrl"])
        assert (out.width, out.height) == (80, 40)
        assert near(rgb(out, 20, red_y), RED) and near(rgb(out, 45, 20), GREEN) and near(rgb(out, 60, 20), BLUE)
    # fit: both scaled to the smaller height, side by side with no gap.
    out = image_at(admin, ok(post_files(admin, "stitch", files, {"resizeMode": "fit"}))["downloadUrl"])
    assert (out.width, out.height) == (40 + 15, 20)
    out = image_at(admin, ok(post_files(admin, "stitch", files, {"direction": "vertical", "gap": 4}))["downloadUrl"])
    assert (out.width, out.height) == (30, 15 + 4 + 40)
    grid = [(f"{i}.png", png(20, 20, c)) for i, c in enumerate((RED, GREEN, BLUE))]
    out = image_at(admin, ok(post_files(admin, "stitch", grid, {"direction": "grid", "columns": 2}))["downloadUrl"])
    assert (out.width, out.height) == (40, 40)
    assert near(rgb(out, 30, 10), GREEN) and near(rgb(out, 10, 30), BLUE) and near(rgb(out, 30, 30), WHITE)
    assert_error(post_files(admin, "stitch", files[:1]), 400, "TOO_FEW_FILES")


def test_split_grid_rows_and_tiles(admin: TestClient) -> None:
    data = encode(marked(100, 60), ".png")
    body = run_tool(admin, "split", data, {"mode": "grid", "rows": 2, "cols": 3}, "pic.png")
    assert body["downloadUrl"].split("?")[0].endswith(".zip") and (body["rows"], body["cols"]) == (2, 3)
    tiles = zip_entries(admin.get(body["downloadUrl"]).content)
    assert sorted(tiles) == [f"pic_r{r:02d}_c{c:02d}.png" for r in (1, 2) for c in (1, 2, 3)]
    first = pyvips.Image.new_from_buffer(tiles["pic_r01_c01.png"], "")
    last = pyvips.Image.new_from_buffer(tiles["pic_r02_c03.png"], "")
    assert (first.width, first.height) == (33, 30) and (last.width, last.height) == (33, 30)
    assert near(rgb(first, 2, 2), RED) and near(rgb(last, 30, 27), BLUE)
    tiles = zip_entries(admin.get(run_tool(admin, "split", data, {"mode": "rows", "rows": 3})["downloadUrl"]).content)
    assert len(tiles) == 3 and all(pyvips.Image.new_from_buffer(t, "").width == 100 for t in tiles.values())
    body = run_tool(admin, "split", data, {"tileWidth": 40, "tileHeight": 40})
    sizes = sorted((t["width"], t["height"]) for t in body["tiles"])
    assert sizes == [(20, 20), (20, 40), (40, 20), (40, 20), (40, 40), (40, 40)]


def test_border_styles(admin: TestClient) -> None:
    data = encode(solid(40, 30, RED), ".jpg")
    body = run_tool(admin, "border", data, {"width": 10, "color": "#0000FF", "padding": 5, "paddingColor": "#00FF00"})
    out = fetch_image(admin, body)
    assert (out.width, out.height) == (70, 60) and out.get("vips-loader") == "jpegload_buffer"
    assert near(rgb(out, 2, 30), BLUE, 30) and near(rgb(out, 12, 30), GREEN, 30) and near(rgb(out, 35, 30), RED, 30)
    # Rounded corners and a shadow need transparency: a JPEG input comes back as PNG.
    body = run_tool(admin, "border", data, {"width": 10, "borderRadius": 20, "shadow": True})
    out = fetch_image(admin, body)
    assert out.bands == 4 and body["shadowMargin"] > 0 and out.width == 60 + 2 * body["shadowMargin"]
    assert out(0, 0)[3] == 0
    gradient = fetch_image(
        admin, run_tool(admin, "border", data, {"width": 10, "style": "gradient", "secondaryColor": "#FFFFFF"})
    )
    assert near(rgb(gradient, 1, 1), BLACK, 40) and near(rgb(gradient, 58, 48), WHITE, 40)
    pattern = fetch_image(admin, run_tool(admin, "border", data, {"width": 16, "style": "pattern"}))
    ring = {tuple(round(v / 255) for v in rgb(pattern, x, 2)) for x in range(0, 60)}
    assert {(0, 0, 0), (1, 1, 1)} <= ring
    assert_error(post(admin, "border", data, {"style": "dotted"}), 400, "VALIDATION_ERROR")


def test_circle_crop(admin: TestClient) -> None:
    image = solid(120, 80, (200, 200, 200)).draw_rect(list(RED), 0, 0, 60, 80, fill=True)
    data = encode(image, ".png")
    out = fetch_image(admin, run_tool(admin, "circle-crop", data, {"outputSize": 64}))
    assert (out.width, out.height, out.bands) == (64, 64, 4)
    assert out(1, 1)[3] == 0 and out(32, 32)[3] == 255
    # offsetX -100 pushes the square to the left edge: all red.
    out = fetch_image(admin, run_tool(admin, "circle-crop", data, {"offsetX": -100, "zoom": 2}))
    assert (out.width, out.height) == (40, 40) and near(rgb(out, 20, 20), RED)
    ring = {"borderWidth": 6, "borderColor": "#0000FF", "background": "#00FF00", "outputSize": 100}
    out = fetch_image(admin, run_tool(admin, "circle-crop", data, ring))
    assert near(rgb(out, 50, 2), BLUE, 30) and near(rgb(out, 1, 1), GREEN, 5) and out(1, 1)[3] == 255
    assert_error(post(admin, "circle-crop", data, {"zoom": 6}), 400, "VALIDATION_ERROR")


def test_image_pad(admin: TestClient) -> None:
    data = encode(solid(40, 40, RED), ".jpg")
    body = run_tool(admin, "image-pad", data, {"target": "16:9", "color": "#0000FF"})
    out = fetch_image(admin, body)
    assert (out.width, out.height) == (71, 40) and near(rgb(out, 2, 20), BLUE, 30) and near(rgb(out, 35, 20), RED, 30)
    out = fetch_image(admin, run_tool(admin, "image-pad", data, {"target": "1:1", "padding": 25}))
    assert (out.width, out.height) == (60, 60) and near(rgb(out, 2, 2), WHITE, 10)
    out = fetch_image(
        admin,
        run_tool(admin, "image-pad", data, {"target": "custom", "ratioW": 1, "ratioH": 2, "background": "transparent"}),
    )
    assert (out.width, out.height, out.bands) == (40, 80, 4) and out(20, 2)[3] == 0
    out = fetch_image(admin, run_tool(admin, "image-pad", data, {"target": "9:16", "background": "blur"}))
    assert out.height == 71 and near(rgb(out, 20, 2), RED, 60)
    assert_error(post(admin, "image-pad", data, {"padding": 60}), 400, "VALIDATION_ERROR")
