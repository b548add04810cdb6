"""Cut-out tools on the real, packaged U2-Net-p (and a stand-in BiRefNet): remove-background with every
background type and its /effects sub-route, background-replace, blur-background, transparency-fixer.

The subject is a drawn, person-like shape on a textured background, so each test knows which pixels
are subject and which are background and checks them, not just status codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.ai.scenes import (
    birefnet_stand_in,
    decode,
    fail_long,
    fetch,
    iou,
    jpeg,
    person_scene,
    png,
    post,
    run_long,
    stand_in_manifest,
)
from tests.assertions import assert_error
from tests.conftest import make_client
from tests.engine.conftest import sign_in_admin

WHITE_ISH = 40  # tolerance for colour comparisons after resampling and PNG/JPEG round trips


def regions(shape: np.ndarray, margin: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """(surely subject, surely background): the drawn shape eroded and its complement eroded, so the
    soft mask edge is left out of pixel checks."""
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    inside = cv2.erode(shape.astype(np.uint8), kernel).astype(bool)
    outside = cv2.erode((~shape).astype(np.uint8), kernel).astype(bool)
    return inside, outside


def mean_diff(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    return float(np.abs(a[..., :3].astype(int) - b[..., :3].astype(int))[where].mean())


def effects(client: TestClient, data: bytes, settings: dict) -> tuple[np.ndarray, dict[str, str]]:
    r = post(client, "remove-background/effects", data, settings)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    return decode(r.content), dict(r.headers)


@pytest.fixture
def stand_in_app(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Path]]:
    """An app whose BiRefNet models (general and matting) are tiny stand-ins installed in MODELS_DIR."""
    models = tmp_path / "models"
    body = birefnet_stand_in()
    manifest = stand_in_manifest(
        tmp_path / "manifest.json",
        models,
        {
            "birefnet-general": ("background-removal", "BiRefNet-general-epoch_244.onnx", body),
            "birefnet-matting": ("background-removal", "BiRefNet-matting-epoch_100.onnx", body),
        },
    )
    monkeypatch.setenv("AI_MANIFEST", str(manifest))
    monkeypatch.setenv("MODELS_DIR", str(models))
    with make_client() as client:
        sign_in_admin(client)
        yield client, models


def test_cutout_mask_covers_the_subject_and_corners_are_transparent(admin: TestClient) -> None:
    picture, shape = person_scene()
    body = run_long(admin, "remove-background", jpeg(picture), {}, name="person.jpg")
    assert body["downloadUrl"].split("?")[0].endswith("/person_nobg.png")
    assert body["model"] == "u2netp" and body["maskCached"] is False and body["inferenceMs"] > 0
    out = decode(fetch(admin, body))
    assert out.shape == (360, 480, 4)
    alpha = out[..., 3]
    assert iou(alpha > 127, shape) > 0.8
    for y, x in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        assert alpha[y, x] < 10
    inside, _ = regions(shape)
    assert mean_diff(out, picture, inside) < 12  # the subject's own colours are kept
    assert 0.2 < body["subjectCoverage"] < 0.5


def test_effects_rerender_every_background_from_the_cached_mask(admin: TestClient) -> None:
    picture, shape = person_scene()
    data = png(picture)
    first = run_long(admin, "remove-background", data, {"backgroundType": "transparent"})
    assert first["maskCached"] is False
    inside, outside = regions(shape)

    out, headers = effects(admin, data, {"backgroundType": "color", "backgroundColor": "#00ff00"})
    assert headers["x-mask-cached"] == "True" and float(headers["x-inference-ms"]) == 0
    assert out.shape == (360, 480, 3)
    assert np.abs(out[outside].astype(int) - [0, 255, 0]).max() < WHITE_ISH
    assert mean_diff(out, picture, inside) < 12

    out, headers = effects(
        admin,
        data,
        {"backgroundType": "gradient", "gradientColor1": "#ff0000", "gradientColor2": "#0000ff", "gradientAngle": 0},
    )
    assert headers["x-mask-cached"] == "True"
    assert np.abs(out[5, 2].astype(int) - [255, 0, 0]).max() < WHITE_ISH  # left edge: first colour
    assert np.abs(out[5, -3].astype(int) - [0, 0, 255]).max() < WHITE_ISH  # right edge: second colour
    assert mean_diff(out, picture, inside) < 12

    out, headers = effects(admin, data, {"backgroundType": "blur", "blurIntensity": 60})
    assert headers["x-mask-cached"] == "True"
    # The textured background is smoothed (its local detail gone) but keeps its colour; the subject stays.
    detail_before = np.abs(np.diff(picture.astype(int), axis=1))[:, :, 0][outside[:, 1:]].mean()
    detail_after = np.abs(np.diff(out.astype(int), axis=1))[:, :, 0][outside[:, 1:]].mean()
    assert detail_after < detail_before / 4
    assert abs(out[outside].mean() - picture[outside].mean()) < 15
    assert mean_diff(out, picture, inside) < 12

    new_background = np.zeros((100, 100, 3), np.uint8)
    new_background[:, :] = (255, 200, 0)
    r = post(
        admin,
        "remove-background/effects",
        data,
        {"backgroundType": "image"},
        extra={"background": ("bg.png", png(new_background))},
    )
    assert r.status_code == 200, r.text
    out = decode(r.content)
    assert np.abs(out[outside].astype(int) - [255, 200, 0]).max() < WHITE_ISH
    assert mean_diff(out, picture, inside) < 12

    plain, _ = effects(admin, data, {"backgroundType": "color", "backgroundColor": "#ffffff"})
    shadowed, headers = effects(
        admin,
        data,
        {"backgroundType": "color", "backgroundColor": "#ffffff", "shadowEnabled": True, "shadowOpacity": 80},
    )
    assert headers["x-mask-cached"] == "True"
    # The shadow falls down and to the right: where the subject, moved that way, covers background.
    offset = round(360 * 0.02)
    cast = np.zeros_like(shape)
    cast[offset:, offset:] = shape[:-offset, :-offset]
    cast &= outside
    assert cast.sum() > 100
    assert plain[cast].mean() - shadowed[cast].mean() > 20
    assert np.abs(plain[outside & ~cast].astype(int) - shadowed[outside & ~cast]).mean() < 10
    assert mean_diff(shadowed, picture, inside) < 12


def test_effects_on_an_upload_never_cut_out_runs_the_model_once(admin: TestClient) -> None:
    picture, shape = person_scene(cx=200)
    data = png(picture)
    out, headers = effects(admin, data, {})
    assert headers["x-mask-cached"] == "False" and float(headers["x-inference-ms"]) > 0
    assert iou(out[..., 3] > 127, shape) > 0.8
    again, headers = effects(admin, data, {"shadowEnabled": True})
    assert headers["x-mask-cached"] == "True"
    assert iou(again[..., 3] > 127, shape) > 0.8


def test_image_background_without_its_part_is_a_400(admin: TestClient) -> None:
    picture, _ = person_scene(120, 90)
    final = fail_long(admin, "remove-background", png(picture), {"backgroundType": "image"})
    assert final.get("code") == "INVALID_INPUT" or final.get("status_code") == 400, final


def test_birefnet_without_its_model_answers_501(admin: TestClient) -> None:
    picture, _ = person_scene(120, 90)
    r = post(admin, "remove-background", png(picture), {"model": "birefnet-general"})
    assert_error(r, 501, "FEATURE_NOT_INSTALLED")
    assert r.json()["feature"] == "background-removal" and r.json()["estimatedSize"] > 900_000_000
    # /effects on an upload never cut out would have to run the model: the same answer.
    r = post(admin, "remove-background/effects", png(picture), {"model": "birefnet-general"})
    assert_error(r, 501, "FEATURE_NOT_INSTALLED")


def test_birefnet_stand_in_runs_and_effects_then_need_no_model(stand_in_app: tuple[TestClient, Path]) -> None:
    client, models = stand_in_app
    picture, shape = person_scene()
    data = png(picture)
    body = run_long(client, "remove-background", data, {"model": "birefnet-general"})
    assert body["model"] == "birefnet-general" and body["maskCached"] is False
    out = decode(fetch(client, body))
    assert iou(out[..., 3] > 127, shape) > 0.8
    assert out[0, 0, 3] < 10

    # Take the model away: a re-render of the same upload still works (its mask is cached) ...
    for file in (models / "background-removal" / "birefnet-general").iterdir():
        file.unlink()
    out, headers = effects(client, data, {"model": "birefnet-general", "backgroundType": "color"})
    assert headers["x-mask-cached"] == "True" and headers["x-model"] == "birefnet-general"
    assert iou(out[..., 0] < 200, shape) > 0.8  # dark subject on white
    # ... while a new picture needs the model, which is gone.
    other, _ = person_scene(cx=180)
    assert_error(post(client, "remove-background", png(other), {"model": "birefnet-general"}), 501)


def test_background_replace_colour_and_gradient(admin: TestClient) -> None:
    picture, shape = person_scene()
    inside, outside = regions(shape)
    body = run_long(admin, "background-replace", jpeg(picture), {"color": "#3366ff", "feather": 0}, name="p.jpg")
    assert body["downloadUrl"].split("?")[0].endswith("/p_bg.png") and body["model"] == "u2netp"
    out = decode(fetch(admin, body))
    assert out.shape == (360, 480, 3)
    assert np.abs(out[outside].astype(int) - [0x33, 0x66, 0xFF]).max() < WHITE_ISH
    assert mean_diff(out, picture, inside) < 12

    body = run_long(
        admin,
        "background-replace",
        jpeg(picture),
        {"backgroundType": "gradient", "gradientColor1": "#000000", "gradientColor2": "#ffffff", "format": "webp"},
    )
    assert body["downloadUrl"].split("?")[0].endswith(".webp") and body["maskCached"] is True  # same picture, same mask
    out = decode(fetch(admin, body))
    assert out[2, 10].mean() < 40 and out[-3, 10].mean() > 215  # 90 degrees: top dark, bottom light
    assert mean_diff(out, picture, inside) < 15


def test_blur_background_blurs_only_the_background(admin: TestClient) -> None:
    picture, shape = person_scene()
    inside, outside = regions(shape, margin=10)
    body = run_long(admin, "blur-background", png(picture), {"intensity": 80, "format": "webp"})
    assert body["downloadUrl"].split("?")[0].endswith("_blurred.webp")
    out = decode(fetch(admin, body))
    detail_before = np.abs(np.diff(picture.astype(int), axis=1))[:, :, 0][outside[:, 1:]].mean()
    detail_after = np.abs(np.diff(out.astype(int), axis=1))[:, :, 0][outside[:, 1:]].mean()
    assert detail_after < detail_before / 4
    assert mean_diff(out, picture, inside) < 15


def haloed_cutout() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A bad cut-out: the subject with a 5 px opaque white halo of its old background, and black under
    alpha 0. Returns (RGBA, subject shape, halo ring)."""
    picture, shape = person_scene()
    grown = cv2.dilate(shape.astype(np.uint8), np.ones((11, 11), np.uint8)).astype(bool)
    halo = grown & ~shape
    rgba = np.zeros((*shape.shape, 4), np.uint8)
    rgba[..., :3] = np.where(shape[..., None], picture, 0)
    rgba[halo, :3] = 250
    rgba[..., 3] = np.where(grown, 255, 0)
    return rgba, shape, halo


def test_transparency_fixer_removes_a_halo(admin: TestClient) -> None:
    rgba, shape, halo = haloed_cutout()
    body = run_long(admin, "transparency-fixer", png(rgba), {"defringe": 60}, name="cut.png")
    assert body["model"] == "u2netp" and body["matting"] is False and body["hadAlpha"] is True
    assert body["downloadUrl"].split("?")[0].endswith("/cut_fixed.png")
    out = decode(fetch(admin, body))
    assert out.shape == rgba.shape
    alpha = out[..., 3].astype(float) / 255
    # The white ring was opaque; now it is mostly gone, and what is left of it is no longer white.
    assert alpha[halo].mean() < 0.35
    visible_white = (alpha[..., None] * out[..., :3].astype(float))[halo].mean()
    assert visible_white < 0.35 * 250
    inside, _ = regions(shape)
    assert alpha[inside].min() > 0.9
    assert iou(alpha > 0.5, shape) > 0.8

    body = run_long(admin, "transparency-fixer", jpeg(person_scene()[0]), {"outputFormat": "webp"})
    assert body["hadAlpha"] is False and body["downloadUrl"].split("?")[0].endswith(".webp")
    out = decode(fetch(admin, body))
    assert out.shape[2] == 4 and iou(out[..., 3] > 127, shape) > 0.8


def test_transparency_fixer_uses_birefnet_matting_when_installed(stand_in_app: tuple[TestClient, Path]) -> None:
    client, _ = stand_in_app
    rgba, shape, halo = haloed_cutout()
    body = run_long(client, "transparency-fixer", png(rgba), {})
    assert body["model"] == "birefnet-matting" and body["matting"] is True
    out = decode(fetch(client, body))
    assert out[..., 3][halo].mean() < 0.35 * 255
    assert iou(out[..., 3] > 127, shape) > 0.8
