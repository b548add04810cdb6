"""content-aware-resize through the HTTP API, and the seam carver itself: output sizes (narrower,
shorter, wider, square), detailed regions that survive whole, faces kept with protectFaces, and the
block path large pictures take."""

from __future__ import annotations

import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.engine.media import seams
from tests.ai.scenes import decode, fail_long, fetch, jpeg, png, portrait, run_long, textured_background

SKIN = (200, 160, 140)


def scene(width: int = 400, height: int = 300) -> np.ndarray:
    """A checkerboard block (high energy) and a red disc on a smooth, lightly textured background."""
    img = textured_background(width, height).astype(np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    block = (xx >= width * 0.15) & (xx < width * 0.35) & (yy >= height * 0.3) & (yy < height * 0.7)
    board = (xx // 8 + yy // 8) % 2 == 0
    img[block & board] = (20, 20, 20)
    img[block & ~board] = (240, 240, 240)
    disc = (xx - width * 0.7) ** 2 + (yy - height * 0.5) ** 2 < (height * 0.15) ** 2
    img[disc] = (200, 30, 30)
    return img


def transitions(row: np.ndarray) -> int:
    """Black/white changes along a row (the checkerboard's cells)."""
    dark = row[:, :3].mean(axis=1) < 60
    light = row[:, :3].min(axis=1) > 225
    marks = np.where(dark, 1, np.where(light, 2, 0))
    marks = marks[marks > 0]
    return int((np.diff(marks) != 0).sum())


def red_width(row: np.ndarray) -> int:
    red = (row[:, 0] > 150) & (row[:, 1] < 80) & (row[:, 2] < 80)
    return int(red.sum())


def test_narrowing_keeps_the_detailed_block_and_the_disc_whole(admin: TestClient) -> None:
    picture = scene()
    body = run_long(admin, "content-aware-resize", png(picture), {"width": 250}, name="s.png")
    assert body["downloadUrl"].split("?")[0].endswith("/s_carved.png")
    assert (body["width"], body["height"], body["originalWidth"]) == (250, 300, 400)
    out = decode(fetch(admin, body))
    assert out.shape == (300, 250, 3)
    middle = 150
    assert transitions(out[middle]) == transitions(picture[middle])  # every cell of the board survives
    assert abs(red_width(out[middle]) - red_width(picture[middle])) <= 3  # the disc stays round
    # A plain resize to 250 would have squeezed the block to 50 px; here it keeps its 80.
    board = np.flatnonzero(out[middle, :, :3].mean(axis=1) < 60)
    assert board.max() - board.min() >= 70


def test_shorter_wider_and_square(admin: TestClient) -> None:
    picture = scene(300, 200)
    body = run_long(admin, "content-aware-resize", jpeg(picture), {"width": 380, "height": 150})
    out = decode(fetch(admin, body))
    assert out.shape == (150, 380, 3)
    assert transitions(out[100]) >= transitions(picture[100]) - 1
    assert body["downloadUrl"].split("?")[0].endswith(".jpg")

    body = run_long(admin, "content-aware-resize", png(picture), {"square": True})
    assert decode(fetch(admin, body)).shape == (200, 200, 3)

    rgba = np.dstack([picture, np.full(picture.shape[:2], 255, np.uint8)])
    rgba[:20, :20, 3] = 0
    body = run_long(admin, "content-aware-resize", png(rgba), {"width": 240, "blurRadius": 0, "sobelThreshold": 20})
    out = decode(fetch(admin, body))
    assert out.shape == (200, 240, 4) and out[199, 239, 3] == 255
    transparent = out[..., 3] == 0
    assert 200 <= transparent.sum() <= 400 and transparent[:20, :20].any()  # the clear corner moved along


def test_protect_faces_keeps_the_face_from_being_squeezed(admin: TestClient) -> None:
    face = portrait(width=400, height=500, cx=200, cy=230, face_width=150)
    img = face.rgb.copy()
    # A busy background (random noise) costs more to carve than the flat cartoon face.
    plain = np.abs(img.astype(int) - 235).max(axis=2) < 6
    img[plain] = np.random.default_rng(3).integers(0, 255, img.shape, dtype=np.uint8)[plain]
    data = png(img)

    def skin(out: np.ndarray) -> int:
        return int((np.abs(out[..., :3].astype(int) - SKIN).max(axis=2) < 20).sum())

    before = skin(img)
    unprotected = run_long(admin, "content-aware-resize", data, {"width": 280})
    protected = run_long(admin, "content-aware-resize", data, {"width": 280, "protectFaces": True})
    assert protected["facesProtected"] == 1 and "facesProtected" not in unprotected
    kept = skin(decode(fetch(admin, protected)))
    squeezed = skin(decode(fetch(admin, unprotected)))
    assert kept >= 0.9 * before
    assert squeezed < 0.8 * before


def test_too_much_growth_is_refused(admin: TestClient) -> None:
    final = fail_long(admin, "content-aware-resize", png(scene(100, 80)), {"width": 301})
    assert final.get("code") == "INVALID_INPUT" or final.get("status_code") == 400, final


def test_large_pictures_carve_in_blocks_quickly() -> None:
    picture = scene(2000, 1200)
    started = time.perf_counter()
    out, _ = seams.carve_width(picture, 1500, seams.EnergyOptions())
    elapsed = time.perf_counter() - started
    assert out.shape == (1200, 1500, 3)
    assert transitions(out[600]) >= transitions(picture[600]) - 2  # block edges may nick an outer cell
    assert elapsed < 20  # generous for a loaded CI machine; about 1 s when idle


@pytest.mark.parametrize(("width", "target"), [(120, 60), (120, 119), (60, 150)])
def test_carver_hits_exact_widths(width: int, target: int) -> None:
    picture = scene(width, 90)
    out, _ = seams.carve_width(picture, target, seams.EnergyOptions())
    assert out.shape == (90, target, 3)
