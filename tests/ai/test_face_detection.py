"""app/engine/media/faces.py: OpenCV's packaged Haar cascade on a drawn portrait, and the YuNet path
(cv2.FaceDetectorYN) on a tiny stand-in model with YuNet's interface, in process and through
smart-crop's face mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.config import get_settings
from app.engine.media import faces
from tests.ai.scenes import decode, fetch, png, portrait, run_fast, stand_in_manifest, yunet_stand_in
from tests.conftest import make_client
from tests.engine.conftest import sign_in_admin

YUNET_FILE = "face_detection_yunet_2023mar.onnx"


def red_square() -> np.ndarray:
    """A red 160 px square on the 32 px grid (the stand-in's face), centre (272, 176)."""
    img = np.full((300, 400, 3), 230, np.uint8)
    img[96:256, 192:352] = (220, 20, 20)
    return img


@pytest.fixture
def yunet_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This process's settings point at a manifest whose YuNet is the installed stand-in."""
    models = tmp_path / "models"
    manifest = stand_in_manifest(
        tmp_path / "manifest.json", models, {"yunet": ("face-detection", YUNET_FILE, yunet_stand_in())}
    )
    monkeypatch.setenv("AI_MANIFEST", str(manifest))
    monkeypatch.setenv("MODELS_DIR", str(models))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield manifest
    get_settings.cache_clear()


def test_haar_finds_the_portrait_face_with_a_sane_box() -> None:
    face = portrait(width=400, height=500, cx=200, cy=230, face_width=150)
    found = faces.detect_faces(face.rgb)
    assert len(found) == 1
    f = found[0]
    assert abs(f.cx - face.cx) < 12 and abs(f.cy - face.cy) < 30
    assert 0.9 * face.face_width < f.w < 1.4 * face.face_width
    assert 0 < f.score <= 1
    body = f.to_json()
    assert set(body) >= {"x", "y", "width", "height", "score"}
    assert faces.detector_name() == "haar"
    # Alpha and grey inputs are taken too; a blank picture has no face; a tiny one is skipped.
    rgba = np.dstack([face.rgb, np.full(face.rgb.shape[:2], 255, np.uint8)])
    assert len(faces.detect_faces(rgba)) == 1
    assert len(faces.detect_faces(face.rgb.mean(axis=2).astype(np.uint8))) == 1
    assert faces.detect_faces(np.full((200, 200, 3), 128, np.uint8)) == []
    assert faces.detect_faces(np.zeros((5, 5, 3), np.uint8)) == []


def test_large_pictures_are_searched_shrunk_and_boxes_come_back_full_size() -> None:
    face = portrait(width=400, height=500, cx=200, cy=230, face_width=150)
    big = np.kron(face.rgb, np.ones((4, 4, 1), np.uint8))  # 1600 x 2000
    found = faces.detect_faces(big)
    assert len(found) == 1
    assert abs(found[0].cx - 4 * face.cx) < 48 and found[0].w > 4 * 0.9 * face.face_width


def test_yunet_is_used_when_installed(yunet_env: Path) -> None:
    assert faces.detector_name() == "yunet"
    found = faces.detect_faces(red_square())
    assert len(found) == 1
    f = found[0]
    assert (f.x, f.y, f.w, f.h) == pytest.approx((192, 96, 160, 160), abs=1)
    assert f.score > 0.9
    assert set(f.landmarks) == {"rightEye", "leftEye", "nose", "mouthRight", "mouthLeft"}
    assert len(f.eyes) == 2 and f.eyes[0][0] < f.eyes[1][0]
    # The stand-in's landmarks sit at fixed offsets from its cell (8, 5) of the 32 px grid.
    assert f.landmarks["nose"] == pytest.approx((256.0, 166.4), abs=0.5)
    assert faces.detect_faces(np.full((300, 400, 3), 230, np.uint8)) == []
    # Shrunk for the search (1600 px wide -> 1280) and scaled back to the picture's pixels.
    big = np.full((1200, 1600, 3), 230, np.uint8)
    big[120:320, 240:440] = (220, 20, 20)
    (f,) = faces.detect_faces(big)
    assert (f.x, f.y, f.w, f.h) == pytest.approx((240, 120, 200, 200), abs=2)


def test_smart_crop_face_mode_runs_on_yunet(app_env: Path, yunet_env: Path) -> None:
    settings = {"mode": "face", "facePreset": "closeup", "padding": 0}
    with make_client() as client:
        sign_in_admin(client)
        body = run_fast(client, "smart-crop", png(red_square()), settings)
        assert body["faceDetector"] == "yunet" and body["facesFound"] == 1
        region = body["region"]
        assert region["left"] <= 200 and region["left"] + region["width"] >= 344
        assert decode(fetch(client, body)).shape[:2] == (region["height"], region["width"])
