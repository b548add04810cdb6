"""blur-faces and red-eye-removal on a real portrait (OpenCV's packaged Haar cascades find the face)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.ai.photo_helpers import EYES, FACE_BOX, app_client, diff, encode, portrait, post_image, rgb_of
from tests.tools.image.helpers import download


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from app_client(tmp_path_factory.mktemp("face-retouch"))


def run_fast(client: TestClient, tool: str, data: bytes, settings: dict) -> tuple[np.ndarray, dict]:
    r = post_image(client, tool, data, settings)
    assert r.status_code == 200, r.text
    body = r.json()
    return rgb_of(download(client, body)), body


def test_blur_faces_hides_the_face_and_nothing_else(app: TestClient) -> None:
    photo = portrait()
    out, body = run_fast(app, "blur-faces", encode(photo), {"blurRadius": 20})
    assert body["facesFound"] == 1 and body["detector"] == "haar"
    face = body["faces"][0]
    x, y, w, h = face["x"], face["y"], face["width"], face["height"]
    assert abs(x - FACE_BOX[0]) < 10 and abs(y - FACE_BOX[1]) < 10 and abs(w - FACE_BOX[2]) < 15
    change = diff(out, photo)
    inner = change[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
    assert inner.mean() > 12  # eyes, nose and mouth are smeared
    # The face's fine structure is gone: far less local variation inside than before.
    before = photo[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4].astype(float)
    after = out[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4].astype(float)
    assert np.abs(np.diff(after, axis=1)).mean() < 0.3 * np.abs(np.diff(before, axis=1)).mean()
    # Outside the padded face box the photo is untouched.
    assert change[:, : x - 25].max() == 0 and change[y + h + 30 :, :].max() == 0


def test_blur_faces_pixelate_in_a_box(app: TestClient) -> None:
    photo = portrait()
    out, body = run_fast(app, "blur-faces", encode(photo), {"method": "pixelate", "shape": "box", "blurRadius": 16})
    x, y, w, h = (body["faces"][0][k] for k in ("x", "y", "width", "height"))
    block = out[y + h // 3 : y + h // 3 + 8, x + w // 2 : x + w // 2 + 8]
    # 8 px blocks: a run of equal pixels where the photo had detail.
    rows = [len({tuple(p) for p in row}) for row in block]
    assert min(rows) <= 2
    assert diff(out, photo)[:, : x - 20].max() == 0


def test_blur_faces_without_a_face_changes_nothing(app: TestClient) -> None:
    plain = np.full((120, 160, 3), 90, np.uint8)
    plain[40:80, 50:110] = (200, 120, 60)
    out, body = run_fast(app, "blur-faces", encode(plain), {})
    assert body["facesFound"] == 0 and body["faces"] == []
    assert diff(out, plain).max() == 0


def red_eyed() -> np.ndarray:
    import cv2

    photo = portrait().copy()
    for cx, cy in EYES:
        cv2.circle(photo, (cx, cy), 4, (225, 35, 45), -1)
    return photo


def test_red_eye_removal_makes_red_pupils_dark_and_neutral(app: TestClient) -> None:
    photo = red_eyed()
    out, body = run_fast(app, "red-eye-removal", encode(photo), {})
    assert body["facesFound"] == 1 and body["searched"] == "faces"
    assert body["eyesCorrected"] == 2
    for cx, cy in EYES:
        r, g, b = (int(v) for v in out[cy, cx])
        assert r < 90 and abs(r - g) < 25 and abs(r - b) < 25, (r, g, b)
    # Only the pupils changed: nothing beyond a few pixels around them.
    changed = diff(out, photo) > 0
    ys, xs = np.nonzero(changed)
    assert changed.sum() < 400
    assert all(min(np.hypot(x - cx, y - cy) for cx, cy in EYES) < 9 for x, y in zip(xs, ys, strict=True))


def test_red_eye_removal_strength_and_a_clean_photo(app: TestClient) -> None:
    photo = red_eyed()
    half, _ = run_fast(app, "red-eye-removal", encode(photo), {"strength": 50})
    cx, cy = EYES[0]
    assert 90 < half[cy, cx][0] < 180  # half way from red (225) to dark
    clean = portrait()
    out, body = run_fast(app, "red-eye-removal", encode(clean), {})
    assert body["eyesCorrected"] == 0
    assert diff(out, clean).max() == 0  # lips and skin are not red-eye


def test_red_eye_removal_without_a_face_searches_the_whole_image(app: TestClient) -> None:
    # Just the eyes, no whole face for the face cascade: the eye cascade searches the whole image.
    photo = red_eyed()
    crop = np.ascontiguousarray(photo[78:128, 78:172])
    out, body = run_fast(app, "red-eye-removal", encode(crop), {"sensitivity": 0.7})
    assert body["facesFound"] == 0 and body["searched"] == "whole-image"
    assert body["eyesCorrected"] == 2
    for cx, cy in EYES:
        r, g, b = (int(v) for v in out[cy - 78, cx - 78])
        assert r < 90 and abs(r - g) < 25, (r, g, b)


@pytest.mark.parametrize(
    ("tool", "settings"),
    [
        ("blur-faces", {"blurRadius": 0}),
        ("blur-faces", {"sensitivity": 2}),
        ("blur-faces", {"method": "swirl"}),
        ("red-eye-removal", {"strength": 101}),
        ("red-eye-removal", {"faces": [[1, 2, 3, 4]]}),
    ],
)
def test_bad_settings_are_400(app: TestClient, tool: str, settings: dict, tmp_path: Path) -> None:
    r = post_image(app, tool, encode(portrait()), settings)
    assert r.status_code == 400, r.text
