"""upscale on the packaged Real-ESRGAN networks (ncnn, CPU): sizes, formats and alpha, the output-size
limit, and quality: from a 4x-reduced picture of sharp shapes, both networks get closer to the original
than bicubic interpolation and leave fewer smeared edge pixels than nearest or bilinear."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.ai.photo_helpers import app_client, install_standins
from tests.ai.scenes import decode, fail_long, fetch, png, portrait, post, run_long
from tests.ai.uninstall import uninstalled


@dataclass
class UpscaleApp:
    client: TestClient
    gfpgan: Path


@pytest.fixture(scope="module")
def upscale_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpscaleApp]:
    """One app for the module: 1 megapixel at most (a small picture at x4 is already over it), a stand-in
    GFPGAN installed."""
    root = tmp_path_factory.mktemp("upscale")
    manifest = install_standins(root, only=("gfpgan",))  # GFPGAN's interface, answering -input
    env = {"MAX_MEGAPIXELS": "1", "AI_MANIFEST": str(manifest), "MODELS_DIR": str(root / "models")}
    for client in app_client(root, **env):
        yield UpscaleApp(client, root / "models" / "photo-restoration" / "gfpgan" / "gfpgan_1.4.onnx")


@pytest.fixture
def app(upscale_app: UpscaleApp) -> TestClient:
    return upscale_app.client


@pytest.fixture
def no_gfpgan(upscale_app: UpscaleApp) -> Iterator[TestClient]:
    """The app with GFPGAN uninstalled for one test."""
    with uninstalled(upscale_app.gfpgan):
        yield upscale_app.client


def shapes(side: int = 128) -> np.ndarray:
    """Dark, hard-edged shapes (a disc, a slanted bar, a rectangle) on a light ground."""
    yy, xx = np.mgrid[0:side, 0:side]
    grey = np.full((side, side), 235.0)
    grey[(xx - 40) ** 2 + (yy - 44) ** 2 < 24**2] = 20
    grey[(np.abs(xx - yy * 0.4 - 80) < 5) & (yy > 60)] = 30
    grey[(yy > 96) & (yy < 108) & (xx > 10) & (xx < 70)] = 25
    return np.stack([grey, grey * 0.9 + 10, grey * 0.5 + 60], axis=-1).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a[..., :3].astype(np.float64) - b[..., :3]) ** 2).mean())
    return 10 * np.log10(255**2 / mse)


def smeared(image: np.ndarray) -> float:
    """Share of pixels neither dark nor light: the blur band along the shapes' edges."""
    red = image[..., 0]
    return float(((red > 60) & (red < 190)).mean())


def interpolated(small: np.ndarray, kernel: str) -> np.ndarray:
    image = pyvips.Image.new_from_array(small).copy(interpretation="srgb")
    return image.resize(4, kernel=kernel).numpy()


@pytest.mark.parametrize("model", ["realesr-animevideov3", "realesrgan-x4plus"])
def test_x4_restores_edges_better_than_interpolation(app: TestClient, model: str) -> None:
    original = shapes()
    small = pyvips.Image.new_from_array(original).copy(interpretation="srgb").resize(0.25, kernel="linear").numpy()
    body = run_long(app, "upscale", png(small), {"scale": 4, "model": model}, name="shapes.png")
    assert body["downloadUrl"].split("?")[0].endswith("/shapes_4x.png")
    assert (body["width"], body["height"], body["scale"], body["model"]) == (128, 128, 4, model)
    assert body["faceEnhance"] == "off"
    out = decode(fetch(app, body))
    assert out.shape == (128, 128, 3)
    assert psnr(out, original) > psnr(interpolated(small, "cubic"), original) + 1.5
    for kernel in ("nearest", "linear", "cubic"):
        assert smeared(out) < 0.7 * smeared(interpolated(small, kernel)), kernel


def test_scale_2_keeps_alpha_and_writes_the_chosen_format(no_gfpgan: TestClient) -> None:
    app = no_gfpgan
    rgba = np.zeros((16, 24, 4), np.uint8)
    rgba[..., :3] = shapes(24)[:16]
    rgba[:, :12, 3] = 255  # left half opaque, right half transparent
    settings = {"scale": "2x", "model": "realesrgan-x4plus", "format": "webp", "quality": 90, "denoise": True,
                "faceEnhance": True}  # fmt: skip
    body = run_long(app, "upscale", png(rgba), settings, name="logo.png")
    assert body["downloadUrl"].split("?")[0].endswith("/logo_2x.webp")
    assert (body["width"], body["height"], body["originalWidth"]) == (48, 32, 24)
    # No face model here: the upscale runs and the answer says face restoration was skipped.
    assert body["faceEnhance"] == "skipped" and "gfpgan" in body["faceEnhanceNote"]
    out = decode(fetch(app, body))
    assert out.shape == (32, 48, 4)
    assert out[:, :20, 3].min() > 240 and out[:, 28:, 3].max() < 15


def test_face_enhance_runs_gfpgan_on_the_found_face(app: TestClient) -> None:
    pytest.importorskip("app.engine.media.face_restore")
    face = portrait()
    settings = {"scale": 2, "model": "realesr-animevideov3"}
    plain = decode(fetch(app, run_long(app, "upscale", png(face.rgb), settings)))
    body = run_long(app, "upscale", png(face.rgb), {**settings, "faceEnhance": True})
    assert body["faceEnhance"] == "applied" and "faceEnhanceNote" not in body
    out = decode(fetch(app, body))
    assert out.shape == plain.shape == (1000, 800, 3)
    cx, cy, half = 2 * face.cx, 2 * face.cy, face.face_width // 2
    centre = (slice(cy - half, cy + half), slice(cx - half, cx + half))
    # The stand-in answers the negative of its input: the aligned face came back inverted, in place.
    assert np.abs(out[centre].astype(int) + plain[centre] - 255).mean() < 25
    assert np.abs(out[centre].astype(int) - plain[centre]).mean() > 60
    # Outside the aligned face crop (about twice the face, around it) nothing changed.
    assert (
        (out[:60] == plain[:60]).all() and (out[780:] == plain[780:]).all() and (out[:, 760:] == plain[:, 760:]).all()
    )


def test_animevideov3_has_a_native_x2_network(app: TestClient) -> None:
    body = run_long(app, "upscale", png(shapes(40)), {"scale": 2, "model": "realesr-animevideov3", "format": "jpg"})
    assert body["downloadUrl"].split("?")[0].endswith("_2x.jpg")
    assert decode(fetch(app, body)).shape == (80, 80, 3)


def test_an_output_over_max_megapixels_is_refused_before_any_work(app: TestClient) -> None:
    started = time.monotonic()
    failed = fail_long(
        app, "upscale", png(np.full((300, 400, 3), 128, np.uint8)), {"scale": 4, "model": "realesrgan-x4plus"}
    )
    assert failed.get("code") == "IMAGE_TOO_LARGE", failed
    assert "1600x1200" in failed["error"] and "MAX_MEGAPIXELS" in failed["error"]
    assert time.monotonic() - started < 20  # x4plus on 300x400 would take minutes on a CPU


@pytest.mark.parametrize("settings", [{"scale": 3}, {"model": "esrgan"}, {"denoise": 101}, {"format": "bmp"}])
def test_bad_settings_are_a_400(app: TestClient, settings: dict) -> None:
    r = post(app, "upscale", png(shapes(16)), settings)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "VALIDATION_ERROR"


PHOTO = Path(__file__).parent / "pictures" / "portrait.jpg"


@pytest.mark.parametrize("picture", ["photo", "shapes"])
def test_default_tier_is_the_compact_network_and_beats_bicubic_at_x2(app: TestClient, picture: str) -> None:
    original = pyvips.Image.new_from_file(str(PHOTO)).numpy() if picture == "photo" else shapes(256)
    half = pyvips.Image.new_from_array(original).copy(interpretation="srgb").resize(0.5, kernel="linear")
    body = run_long(app, "upscale", png(half.numpy()), {}, name="half.png")  # every setting at its default
    assert (body["model"], body["scale"], body["width"], body["height"]) == ("realesr-animevideov3", 2, 256, 256)
    out = decode(fetch(app, body))
    assert out.shape == (256, 256, 3)
    bicubic = half.resize(2, kernel="cubic").numpy()
    assert psnr(out, original) > psnr(bicubic, original) + 0.5
