"""noise-removal (all four tiers; the model tiers on the Real-ESRGAN networks that ship with Lutra) and
image-enhancement with its /analyze action, measured on generated pictures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.ai.photo_helpers import app_client, encode, flat_edge, post_image, rgb_of, run_image
from tests.tools.av import fetch, run_long
from tests.tools.image.helpers import download


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from app_client(tmp_path_factory.mktemp("denoise-enhance"))


W, H = 96, 64


def flat_noise(rgb: np.ndarray) -> float:
    """Standard deviation (mean over channels) in the middle of the dark half, away from the edge."""
    return float(rgb[8 : H - 8, 6 : W // 2 - 10].astype(float).std(axis=(0, 1)).mean())


def edge_step(rgb: np.ndarray) -> float:
    """How far the light half sits above the dark half just 3 px either side of the edge."""
    grey = rgb.astype(float).mean(axis=2)
    return float(grey[8 : H - 8, W // 2 + 2].mean() - grey[8 : H - 8, W // 2 - 3].mean())


@pytest.mark.parametrize("tier", ["quick", "balanced", "quality", "maximum"])
def test_noise_removal_tiers_reduce_noise_and_keep_the_edge(app: TestClient, tmp_path: Path, tier: str) -> None:
    clean, noisy = flat_edge(W, H, sigma=20)
    out, result = run_image(app, "noise-removal", encode(noisy), {"tier": tier}, tmp_path)
    assert out.shape == noisy.shape
    assert flat_noise(noisy) > 18
    assert flat_noise(out) < 0.45 * flat_noise(noisy), (tier, flat_noise(out))
    assert result["noiseAfter"] < result["noiseBefore"]
    # The step between the halves (~70 levels) is still there and still sharp.
    assert edge_step(out) > 0.85 * edge_step(clean)
    assert result["tier"] == tier
    assert result["model"] == {"quality": "realesr-animevideov3", "maximum": "realesrgan-x4plus"}.get(tier)


def test_noise_removal_strength_detail_and_colour_noise(app: TestClient, tmp_path: Path) -> None:
    _, noisy = flat_edge(W, H, sigma=20)
    data = encode(noisy)
    nothing, _ = run_image(
        app, "noise-removal", data, {"strength": 0, "colorNoise": 0, "detailPreservation": 0}, tmp_path
    )
    assert np.array_equal(nothing, noisy)
    gentle, _ = run_image(app, "noise-removal", data, {"strength": 20, "colorNoise": 0}, tmp_path)
    strong, _ = run_image(app, "noise-removal", data, {"strength": 100, "colorNoise": 0}, tmp_path)
    assert flat_noise(strong) < flat_noise(gentle) < flat_noise(noisy)
    # Colour noise: the channels' disagreement (chroma) drops further with colorNoise up.
    plain, _ = run_image(app, "noise-removal", data, {"tier": "quick", "colorNoise": 0}, tmp_path)
    calm, _ = run_image(app, "noise-removal", data, {"tier": "quick", "colorNoise": 100}, tmp_path)

    def chroma(rgb: np.ndarray) -> float:
        region = rgb[8 : H - 8, 6 : W // 2 - 10].astype(float)
        return float((region[..., 0] - region[..., 2]).std())

    assert chroma(calm) < 0.7 * chroma(plain)


def test_noise_removal_format_and_quality(app: TestClient, tmp_path: Path) -> None:
    _, noisy = flat_edge(W, H, sigma=10)
    result = run_long(app, "image/noise-removal", [("n.png", encode(noisy))], {"format": "webp", "quality": 70})
    path = fetch(app, result, tmp_path)
    assert path.suffix == ".webp"
    assert pyvips.Image.new_from_file(str(path)).get("vips-loader").startswith("webp")
    kept = run_long(app, "image/noise-removal", [("n.jpg", encode(noisy, ".jpg", Q=95))], {"tier": "quick"})
    assert fetch(app, kept, tmp_path).suffix == ".jpg"


def test_noise_removal_keeps_alpha(app: TestClient, tmp_path: Path) -> None:
    _, noisy = flat_edge(W, H, sigma=15)
    alpha = np.full((H, W, 1), 255, np.uint8)
    alpha[:10] = 0
    rgba = np.concatenate([noisy, alpha], axis=2)
    result = run_long(app, "image/noise-removal", [("a.png", encode(rgba))], {"tier": "quick"})
    out = pyvips.Image.new_from_file(str(fetch(app, result, tmp_path))).numpy()
    assert out.shape == (H, W, 4) and np.array_equal(out[..., 3], alpha[..., 0])


# --- image-enhancement ----------------------------------------------------------------------------------


def scene(brightness: float = 1.0, saturation: float = 1.0, blur: float = 0.0) -> np.ndarray:
    """A 120x80 picture with some texture and colour; scaled to make it dark, dull or soft."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:80, 0:120].astype(np.float32)
    base = np.stack([60 + 120 * xx / 120, 50 + 130 * yy / 80, 200 - 100 * xx / 120], axis=-1)
    base[20:60, 30:70] = (210, 60, 50)
    base += rng.normal(0, 6, base.shape)
    grey = base.mean(axis=2, keepdims=True)
    base = grey + (base - grey) * saturation
    image = np.clip(base * brightness, 0, 255).astype(np.uint8)
    if blur:
        image = pyvips.Image.new_from_array(image).gaussblur(blur).numpy()
    return image


def enhance(app: TestClient, rgb: np.ndarray, settings: dict) -> tuple[np.ndarray, dict]:
    r = post_image(app, "image-enhancement", encode(rgb), settings)
    assert r.status_code == 200, r.text
    body = r.json()
    return rgb_of(download(app, body)), body


def analyze(app: TestClient, rgb: np.ndarray) -> dict:
    r = app.post(
        "/api/v1/tools/image/image-enhancement/analyze",
        files={"file": ("a.png", encode(rgb), "image/png")},
        data={"settings": "{}"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_analyze_reports_measurements_and_what_auto_would_change(app: TestClient) -> None:
    dark = analyze(app, scene(brightness=0.35))
    stats = dark["analysis"]
    assert stats["width"] == 120 and stats["height"] == 80
    assert stats["meanLuminance"] < 60 and stats["highlightPoint"] < 120
    modes = [r["mode"] for r in dark["recommendations"]]
    assert "exposure" in modes and "contrast" in modes and dark["needsEnhancement"] is True
    assert dark["auto"]["exposure"]["gamma"] < 1  # brightening
    assert "underexposed" in next(r["reason"] for r in dark["recommendations"] if r["mode"] == "exposure")

    fine = analyze(app, scene())
    assert "exposure" not in [r["mode"] for r in fine["recommendations"]]
    soft = analyze(app, scene(blur=3))
    assert soft["analysis"]["sharpness"] < fine["analysis"]["sharpness"] / 5
    assert "sharpness" in soft["auto"]
    dull = analyze(app, scene(saturation=0.25))
    assert dull["analysis"]["saturation"] < fine["analysis"]["saturation"] / 2
    assert dull["auto"]["color"]["saturation"] > 1


def test_auto_enhancement_fixes_a_dark_flat_picture(app: TestClient) -> None:
    dark = scene(brightness=0.35)
    out, body = enhance(app, dark, {})
    assert body["mode"] == "auto" and {"exposure", "contrast"} <= set(body["applied"])
    before = analyze(app, dark)["analysis"]
    after = analyze(app, out)["analysis"]
    assert after["meanLuminance"] > before["meanLuminance"] + 40
    assert after["highlightPoint"] - after["shadowPoint"] > 1.5 * (before["highlightPoint"] - before["shadowPoint"])
    # strength 0 applies nothing.
    same, _ = enhance(app, dark, {"strength": 0, "mode": "exposure"})
    assert np.abs(same.astype(int) - dark).max() <= 1


def test_each_mode_applies_only_its_correction(app: TestClient) -> None:
    dull = scene(saturation=0.3)
    coloured, body = enhance(app, dull, {"mode": "color", "strength": 100})
    assert set(body["applied"]) == {"color"}
    assert analyze(app, coloured)["analysis"]["saturation"] > 1.2 * analyze(app, dull)["analysis"]["saturation"]

    soft = scene(blur=2)
    sharp, body = enhance(app, soft, {"mode": "sharpness"})
    assert set(body["applied"]) == {"sharpness"}
    assert analyze(app, sharp)["analysis"]["sharpness"] > 1.5 * analyze(app, soft)["analysis"]["sharpness"]

    bright = scene(brightness=1.5)
    darker, body = enhance(app, bright, {"mode": "exposure"})
    assert set(body["applied"]) == {"exposure"} and body["applied"]["exposure"]["gamma"] > 1
    assert rgb_mean(darker) < rgb_mean(bright) - 10

    flat = (scene().astype(float) * 0.4 + 80).astype(np.uint8)
    stretched, body = enhance(app, flat, {"mode": "contrast", "strength": 100})
    assert set(body["applied"]) == {"contrast"}
    assert stretched.astype(float).std() > 1.8 * flat.astype(float).std()


def rgb_mean(rgb: np.ndarray) -> float:
    return float(rgb.astype(float).mean())


def test_enhancement_keeps_format_and_alpha(app: TestClient) -> None:
    rgba = np.concatenate([scene(brightness=0.4), np.full((80, 120, 1), 128, np.uint8)], axis=2)
    r = post_image(app, "image-enhancement", encode(rgba), {})
    assert r.status_code == 200, r.text
    out = pyvips.Image.new_from_buffer(download(app, r.json()), "")
    assert out.bands == 4 and out.extract_band(3).min() == 128
