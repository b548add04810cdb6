"""enhance-faces, colorize and restore-photo on a server with only the packaged models: 501 for the
tools that can't run, restore-photo's model steps skipped (and said so), its scratch removal at work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.ai.photo_helpers import app_client, diff, encode, portrait, post_image, run_image
from tests.assertions import assert_error


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app with only the packaged models (no download installed)."""
    yield from app_client(tmp_path_factory.mktemp("bare"))


def scratched_photo() -> tuple[np.ndarray, np.ndarray]:
    """(clean, scratched): a smooth 'photo' with shapes, and the same with three long scratches."""
    h, w = 240, 320
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([90 + 80 * xx / w + 20 * np.sin(yy / 25), 70 + 60 * yy / h, 120 - 40 * xx / w], -1)
    cv2.circle(img, (100, 120), 50, (200, 160, 120), -1)
    cv2.rectangle(img, (190, 40), (290, 150), (60, 80, 140), -1)
    img = cv2.GaussianBlur(img, (0, 0), 2) + np.random.default_rng(3).normal(0, 2, img.shape)
    clean = np.clip(img, 0, 255).astype(np.uint8)
    scratched = clean.copy()
    cv2.line(scratched, (10, 20), (300, 210), (245, 245, 245), 2)
    cv2.line(scratched, (40, 230), (280, 10), (15, 15, 15), 1)
    cv2.line(scratched, (150, 0), (170, 239), (230, 230, 225), 3)
    return clean, scratched


@pytest.mark.parametrize("model", ["gfpgan", "codeformer"])
def test_enhance_faces_without_its_model_is_501(bare: TestClient, model: str) -> None:
    r = post_image(bare, "enhance-faces", encode(portrait()), {"model": model})
    body = assert_error(r, 501, "FEATURE_NOT_INSTALLED")
    assert body["feature"] == "photo-restoration" and model in body["error"]


def test_colorize_without_ddcolor_is_501(bare: TestClient) -> None:
    body = assert_error(post_image(bare, "colorize", encode(scratched_photo()[0]), {}), 501, "FEATURE_NOT_INSTALLED")
    assert body["feature"] == "object-eraser-colorize"
    assert body["featureName"] and body["estimatedSize"] > 0


@pytest.mark.parametrize("mode", ["auto", "light", "heavy"])
def test_restore_photo_removes_scratches_and_reports_skipped_steps(bare: TestClient, tmp_path: Path, mode: str) -> None:
    clean, scratched = scratched_photo()
    settings = {"mode": mode, "denoise": False, "colorize": True}
    out, result = run_image(bare, "restore-photo", encode(scratched), settings, tmp_path)
    lines = diff(scratched, clean) > 30
    assert diff(scratched, clean)[lines].mean() > 100
    assert diff(out, clean)[lines].mean() < 12  # the scratch pixels are back near their surroundings
    assert diff(out, clean)[~lines].mean() < 1.5  # the rest is as it was
    steps = {s["step"]: s for s in result["steps"]}
    assert steps["scratchRemoval"]["status"] == "applied" and steps["scratchRemoval"]["pixels"] >= lines.sum()
    # No face model and no DDColor here: those steps are skipped and say why.
    assert steps["faceEnhancement"]["status"] == "skipped" and "not installed" in steps["faceEnhancement"]["reason"]
    assert steps["colorize"]["status"] == "skipped" and "not installed" in steps["colorize"]["reason"]
    assert set(result["skipped"]) == {"faceEnhancement", "colorize", "denoise"}
    assert result["mode"] in ("light", "heavy")


def test_restore_photo_leaves_a_clean_photo_alone_and_denoises(bare: TestClient, tmp_path: Path) -> None:
    clean, _ = scratched_photo()
    out, result = run_image(bare, "restore-photo", encode(clean), {"denoise": False}, tmp_path)
    assert {s["step"]: s for s in result["steps"]}["scratchRemoval"]["pixels"] == 0
    assert diff(out, clean).max() == 0
    noisy = np.clip(clean + np.random.default_rng(5).normal(0, 15, clean.shape), 0, 255).astype(np.uint8)
    out, result = run_image(bare, "restore-photo", encode(noisy), {"denoiseStrength": 80}, tmp_path)
    flat = (slice(170, 230), slice(5, 60))
    assert out[flat].astype(float).std(axis=(0, 1)).mean() < 0.5 * noisy[flat].astype(float).std(axis=(0, 1)).mean()
    assert result["mode"] == "heavy"  # auto: this much noise is heavy damage
