"""enhance-faces, colorize and restore-photo through the HTTP API: with tiny stand-ins for the
downloadable GFPGAN, CodeFormer and DDColor (see photo_helpers), and without them (501 / skipped)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.engine.media import face_restore
from app.engine.media.faces import Face
from tests.ai.photo_helpers import (
    DDCOLOR_AB,
    FACE_BOX,
    codeformer_standin,
    diff,
    encode,
    portrait,
    run_image,
    standin_app,
)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app with the stand-in GFPGAN, CodeFormer and DDColor installed."""
    yield from standin_app(tmp_path_factory.mktemp("standins"))


def inner(box: tuple[int, int, int, int]) -> tuple[slice, slice]:
    x, y, w, h = box
    return slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4)


# --- enhance-faces ----------------------------------------------------------------------------------


def test_enhance_faces_gfpgan_restores_the_aligned_face_and_pastes_it_back(models: TestClient, tmp_path: Path) -> None:
    photo = portrait()
    out, result = run_image(models, "enhance-faces", encode(photo), {"strength": 100}, tmp_path)
    assert result["facesFound"] == 1 and result["model"] == "gfpgan"
    # The stand-in answers the negative in [-1, 1]: if normalisation, alignment and paste-back are
    # right, the middle of the face comes back as 255 - itself.
    rows, cols = inner(FACE_BOX)
    total = out[rows, cols].astype(float) + photo[rows, cols].astype(float)
    assert abs(total.mean() - 255) < 12, total.mean()
    assert np.median(np.abs(total - 255)) < 25
    # Far from the face nothing moved; the feathered edge leaves no hard seam.
    change = diff(out, photo)
    assert change[:, :25].max() == 0 and change[-25:, :].max() == 0


def test_enhance_faces_strength_blends(models: TestClient, tmp_path: Path) -> None:
    photo = portrait()
    out, _ = run_image(models, "enhance-faces", encode(photo), {"strength": 50}, tmp_path)
    rows, cols = inner(FACE_BOX)
    # Half of x and half of 255 - x: mid-grey.
    assert abs(out[rows, cols].astype(float).mean() - 127.5) < 10


def test_enhance_faces_codeformer_takes_the_fidelity_weight(models: TestClient, tmp_path: Path) -> None:
    photo = portrait()
    rows, cols = inner(FACE_BOX)
    faithful, result = run_image(
        models, "enhance-faces", encode(photo), {"model": "codeformer", "fidelity": 1, "strength": 100}, tmp_path
    )
    assert result["model"] == "codeformer"
    assert diff(faithful, photo)[rows, cols].mean() < 8  # y = x: only resampling softness
    free, _ = run_image(
        models, "enhance-faces", encode(photo), {"model": "codeformer", "fidelity": 0, "strength": 100}, tmp_path
    )
    assert abs((free[rows, cols].astype(float) + photo[rows, cols]).mean() - 255) < 12  # y = -x


def test_enhance_faces_center_face_picks_the_middle_one(models: TestClient, tmp_path: Path) -> None:
    photo = portrait()
    canvas = np.full((256, 700, 3), 200, np.uint8)
    canvas[:, 0:256] = photo
    canvas[:, 300:556] = photo  # this face is nearer the centre (350)
    both, result = run_image(models, "enhance-faces", encode(canvas), {"strength": 100}, tmp_path)
    assert result["facesFound"] == 2
    one, result = run_image(models, "enhance-faces", encode(canvas), {"strength": 100, "centerFace": True}, tmp_path)
    assert result["facesFound"] == 1 and result["faces"][0]["x"] > 300
    left = inner(FACE_BOX)
    right = (left[0], slice(left[1].start + 300, left[1].stop + 300))
    assert diff(both, canvas)[left].mean() > 40 and diff(one, canvas)[left].mean() == 0
    assert diff(one, canvas)[right].mean() > 40


def test_enhance_faces_without_a_face_returns_the_photo(models: TestClient, tmp_path: Path) -> None:
    plain = np.full((100, 140, 3), 120, np.uint8)
    out, result = run_image(models, "enhance-faces", encode(plain), {}, tmp_path)
    assert result["facesFound"] == 0 and diff(out, plain).max() == 0


def test_codeformer_exports_with_other_names_and_a_float_scalar_weight(tmp_path: Path) -> None:
    """Inputs are found by rank, and the weight is fed as the type and shape the export declares."""
    path = tmp_path / "cf.onnx"
    codeformer_standin(path, image="x", weight="w", double=False)
    photo = portrait()
    face = Face(*map(float, FACE_BOX), score=1.0)
    from unittest import mock

    with mock.patch.object(face_restore.bundles, "model_path", return_value=path):
        out = face_restore.restore_faces(photo, [face], "codeformer", 1.0, 0.0)
    rows, cols = inner(FACE_BOX)
    assert abs((out[rows, cols].astype(float) + photo[rows, cols]).mean() - 255) < 12


# --- colorize ---------------------------------------------------------------------------------------


def grey_picture() -> np.ndarray:
    ramp = np.tile(np.linspace(30, 220, 160, dtype=np.float32), (100, 1))
    ramp[30:70, 40:80] = 90
    return np.repeat(ramp[:, :, None], 3, axis=2).astype(np.uint8)


def lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def test_colorize_takes_colour_from_the_model_and_keeps_the_lightness(models: TestClient, tmp_path: Path) -> None:
    grey = grey_picture()
    out, result = run_image(models, "colorize", encode(grey[:, :, 0]), {}, tmp_path)  # a 1-band grey PNG
    assert result["inputWasGrayscale"] is True and result["model"] == "ddcolor"
    before, after = lab(grey), lab(out)
    mid = (slice(10, 90), slice(50, 110))
    assert np.abs(after[mid][..., 0] - before[mid][..., 0]).mean() < 3  # L: the input's own
    assert abs(after[mid][..., 1].mean() - DDCOLOR_AB[0]) < 6  # a*, b*: the model's
    assert abs(after[mid][..., 2].mean() - DDCOLOR_AB[1]) < 6
    r, g, b = out[50, 100].astype(int)
    assert r > g > b  # warm orange


def test_colorize_intensity_scales_the_colour(models: TestClient, tmp_path: Path) -> None:
    grey = grey_picture()
    none, _ = run_image(models, "colorize", encode(grey), {"intensity": 0}, tmp_path)
    assert np.abs(none.astype(int) - grey).max() <= 2
    half, _ = run_image(models, "colorize", encode(grey), {"intensity": 50}, tmp_path)
    assert abs(lab(half)[20:80, 60:100, 1].mean() - DDCOLOR_AB[0] / 2) < 5


# --- restore-photo -----------------------------------------------------------------------------------


def test_restore_photo_runs_the_model_steps_when_installed(models: TestClient, tmp_path: Path) -> None:
    photo = portrait()
    settings = {"denoise": False, "scratchRemoval": False, "colorize": True, "fidelity": 0}
    out, result = run_image(models, "restore-photo", encode(photo), settings, tmp_path)
    steps = {s["step"]: s for s in result["steps"]}
    expected = {"step": "faceEnhancement", "status": "applied", "model": "codeformer", "faces": 1}
    assert steps["faceEnhancement"] == expected
    assert steps["colorize"]["status"] == "applied"
    assert result["skipped"] == ["scratchRemoval", "denoise"]
    # Colourised last: a*/b* are the stand-in's everywhere, even on the (inverted) face.
    after = lab(out)
    assert abs(after[..., 1].mean() - DDCOLOR_AB[0]) < 8 and abs(after[..., 2].mean() - DDCOLOR_AB[1]) < 8
