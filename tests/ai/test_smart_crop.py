"""smart-crop through the HTTP API: subject (real U2-Net-p saliency), attention/entropy (libvips), face
(OpenCV Haar on a drawn portrait), trim; output sizes, padding to square, target size, and that the
crop holds what it was meant to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.engine.ai import bundles
from app.engine.tool import InputFile, ToolContext
from app.tools.image import smart_crop
from tests.ai.scenes import decode, fetch, jpeg, person_scene, png, portrait, run_fast


def contains(region: dict, left: float, top: float, right: float, bottom: float, slack: float = 2) -> bool:
    return (
        region["left"] <= left + slack
        and region["top"] <= top + slack
        and region["left"] + region["width"] >= right - slack
        and region["top"] + region["height"] >= bottom - slack
    )


def shape_box(shape: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(shape)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_subject_mode_crops_to_the_salient_subject_at_the_asked_size(admin: TestClient) -> None:
    picture, shape = person_scene(640, 360, cx=170)
    body = run_fast(admin, "smart-crop", jpeg(picture), {"width": 200, "height": 200, "padding": 5}, name="p.jpg")
    assert body["method"] == "saliency" and body["model"] == "u2netp"
    assert (body["width"], body["height"]) == (200, 200)
    out = decode(fetch(admin, body))
    assert out.shape[:2] == (200, 200)
    left, top, right, _ = shape_box(shape)
    region = body["region"]
    assert region["width"] == region["height"]  # widened to the asked aspect
    # Every side of the subject's box is inside the crop, except where the frame is cut (body at the bottom).
    assert region["left"] <= left + 8 and region["left"] + region["width"] >= right - 8
    assert region["top"] <= top + 8
    assert region["left"] + region["width"] < 640 - 100  # the empty right half is not kept
    dark = out[..., :3].mean(axis=2) < 120
    assert dark.mean() > 0.3  # the subject fills much of the crop


@pytest.mark.parametrize("strategy", ["attention", "entropy"])
def test_libvips_strategies_give_the_exact_size(admin: TestClient, strategy: str) -> None:
    picture, _ = person_scene(480, 360, cx=120)
    body = run_fast(admin, "smart-crop", png(picture), {"strategy": strategy, "width": 120, "height": 160})
    assert body["method"] == strategy and "model" not in body
    out = decode(fetch(admin, body))
    assert out.shape[:2] == (160, 120)
    assert out[..., :3].mean(axis=2).min() < 120  # the window kept part of the dark subject

    square = run_fast(admin, "smart-crop", png(picture), {"strategy": strategy})
    assert (square["width"], square["height"]) == (360, 360)


def test_face_mode_frames_the_face_by_preset(admin: TestClient) -> None:
    face = portrait(width=900, height=700, cx=620, cy=260, face_width=160)  # a size the cascade finds
    data = png(face.rgb)
    close = run_fast(admin, "smart-crop", data, {"mode": "face", "facePreset": "closeup", "padding": 0})
    half = run_fast(admin, "smart-crop", data, {"mode": "face", "facePreset": "half-body", "padding": 0})
    assert close["method"] == "face" and close["facesFound"] == 1
    r = close["region"]
    assert contains(r, face.cx - 50, face.cy - 60, face.cx + 50, face.cy + 60)
    assert r["width"] < 300 and r["height"] < 300
    assert half["region"]["width"] * half["region"]["height"] > 3 * r["width"] * r["height"]
    assert contains(half["region"], face.cx - 70, face.crown + 10, face.cx + 70, face.chin)
    out = decode(fetch(admin, close))
    assert out.shape[:2] == (r["height"], r["width"])

    sized = run_fast(admin, "smart-crop", data, {"mode": "face", "width": 300, "height": 400})
    assert (sized["width"], sized["height"]) == (300, 400)
    assert sized["region"]["width"] * 4 == pytest.approx(sized["region"]["height"] * 3, abs=4)


def test_face_mode_without_a_face_falls_back_to_attention(admin: TestClient) -> None:
    picture, _ = person_scene(300, 200)
    body = run_fast(admin, "smart-crop", png(picture), {"mode": "face", "width": 100, "height": 100})
    assert body["facesFound"] == 0 and body["method"] == "attention"
    assert (body["width"], body["height"]) == (100, 100)


def test_trim_mode_cuts_uniform_borders(admin: TestClient) -> None:
    canvas = np.full((300, 400, 3), 250, np.uint8)
    canvas[80:200, 100:260] = (30, 90, 200)
    body = run_fast(admin, "smart-crop", png(canvas), {"mode": "trim", "padding": 0})
    assert body["method"] == "trim"
    assert body["region"] == {"left": 100, "top": 80, "width": 160, "height": 120}
    out = decode(fetch(admin, body))
    assert out.shape[:2] == (120, 160) and out[..., :3].mean(axis=2).max() < 200

    rgba = np.zeros((200, 200, 4), np.uint8)
    rgba[50:90, 30:170] = (200, 20, 20, 255)
    body = run_fast(
        admin, "smart-crop", png(rgba), {"mode": "trim", "padding": 0, "padToSquare": True, "padColor": "transparent"}
    )
    assert body["region"] == {"left": 30, "top": 50, "width": 140, "height": 40}
    out = decode(fetch(admin, body))
    assert out.shape == (140, 140, 4)
    assert out[0, 0, 3] == 0 and out[70, 70, 3] == 255

    body = run_fast(admin, "smart-crop", jpeg(canvas), {"mode": "trim", "padToSquare": True, "targetSize": 64})
    assert (body["width"], body["height"]) == (64, 64)
    out = decode(fetch(admin, body))
    assert out.shape == (64, 64, 3) and out[0, 0].min() > 230  # padded with white


def test_subject_mode_without_the_ai_feature_uses_attention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Called in-process: with the background-removal feature missing, subject mode still crops."""
    monkeypatch.setattr(bundles, "model_present", lambda model_id: False)
    picture, _ = person_scene(240, 180)
    source = tmp_path / "in.png"
    source.write_bytes(png(picture))
    ctx = ToolContext([InputFile(source, "in.png", "png", source.stat().st_size)], {}, tmp_path / "out")
    result = smart_crop.run(ctx, smart_crop.SmartCropSettings(width=90, height=90))
    assert result.data["method"] == "attention" and "model" not in result.data
    assert decode(result.outputs[0].read_bytes()).shape[:2] == (90, 90)
