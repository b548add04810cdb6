"""Find duplicates through the HTTP API: resized and re-encoded copies group together, others don't."""

from __future__ import annotations

import json

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import download, encode, marked
from tests.tools.image.overlay_helpers import ok, post_parts


def scene(shift: int = 0) -> pyvips.Image:
    """Gradients with a circle and a bar: structure a perceptual hash can see (noise has none)."""
    xyz = pyvips.Image.xyz(160, 120)
    red = (xyz[0] * 1.2 + xyz[1] * 0.5).cast("uchar")
    image = red.bandjoin([(xyz[1] * 2).cast("uchar"), (255 - xyz[0]).cast("uchar")]).copy(interpretation="srgb")
    image = image.draw_circle([255, 255, 0], 50 + shift * 30, 60, 25, fill=True)
    return image.draw_rect([0, 0, 0], 100 - shift * 40, 20, 30, 50, fill=True)


def test_copies_are_grouped_and_distinct_images_are_not(admin: TestClient) -> None:
    original = scene()
    files = [
        ("files", "original.png", encode(original, ".png")),
        ("files", "small.jpg", encode(original.resize(0.5), ".jpg", Q=70)),
        ("files", "other.png", encode(scene(1), ".png")),
        ("files", "mirrored.png", encode(original.flip("horizontal"), ".png")),
    ]
    body = ok(post_parts(admin, "find-duplicates", files, {}))
    assert body["totalImages"] == 4 and body["uniqueImages"] == 3
    assert len(body["duplicateGroups"]) == 1
    group = body["duplicateGroups"][0]["files"]
    assert {f["filename"] for f in group} == {"original.png", "small.jpg"}
    best = next(f for f in group if f["isBest"])
    assert best["filename"] == "original.png" and best["width"] == 160
    assert body["spaceSaveable"] == len(files[1][2])
    report = json.loads(download(admin, body))
    assert report["duplicateGroups"] == body["duplicateGroups"]

    strict = ok(post_parts(admin, "find-duplicates", files, {"threshold": 0}))
    loose = ok(post_parts(admin, "find-duplicates", files, {"threshold": 64}))
    assert len(strict["duplicateGroups"]) <= 1 and loose["uniqueImages"] < 3


def test_file_counts_and_settings(admin: TestClient) -> None:
    one = [("files", "a.png", encode(marked(20, 20), ".png"))]
    assert_error(post_parts(admin, "find-duplicates", one, {}), 400, "TOO_FEW_FILES")
    many = [("files", f"{n}.png", encode(marked(8, 8, 2), ".png")) for n in range(101)]
    assert_error(post_parts(admin, "find-duplicates", many, {}), 400)
    assert_error(post_parts(admin, "find-duplicates", one * 2, {"threshold": -1}), 400, "VALIDATION_ERROR")
