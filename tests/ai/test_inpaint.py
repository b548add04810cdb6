"""erase-object and ai-canvas-expand: OpenCV inpainting with no model installed, and LaMa's pre- and
post-processing on a stand-in model with LaMa's interface (inputs `image` [1,3,512,512] 0..1 and
`mask` [1,1,512,512], output `output` [1,3,512,512] 0..255) that keeps the picture outside the mask and
paints a constant colour inside it: the masked area must come back in that colour, everything else
exactly as it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.ai.photo_helpers import app_client
from tests.ai.scenes import decode, fail_long, fetch, jpeg, png, post, run_long, stand_in_manifest
from tests.ai.uninstall import uninstalled

FILL = (200, 40, 90)  # what the stand-in LaMa paints


def tiny_onnx(
    inputs: dict[str, list[int]],
    outputs: dict[str, list[int]],
    nodes: list[tuple[str, list[str], str]],
    constants: dict[str, np.ndarray],
) -> bytes:
    """A float32 ONNX model from (op, inputs, output) nodes: a stand-in with a real model's interface."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node(op, ins, [out]) for op, ins, out in nodes],
        "stand_in",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in outputs.items()],
        [numpy_helper.from_array(np.asarray(v, np.float32), n) for n, v in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def gradient(width: int, height: int) -> np.ndarray:
    """A smooth two-way colour gradient (what an eraser should restore under a removed object)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([40 + 180 * xx / width, 60 + 150 * yy / height, 160 - 60 * xx / width], axis=-1).astype(np.uint8)


def lama_stand_in(colour: tuple[int, int, int] = FILL) -> bytes:
    """output = 255 * image * (1 - mask) + colour * mask, with LaMa's names and shapes."""
    return tiny_onnx(
        {"image": [1, 3, 512, 512], "mask": [1, 1, 512, 512]},
        {"output": [1, 3, 512, 512]},
        [
            ("Sub", ["one", "mask"], "keep"),
            ("Mul", ["image", "keep"], "kept"),
            ("Mul", ["kept", "k255"], "kept255"),
            ("Mul", ["colour", "mask"], "fill"),
            ("Add", ["kept255", "fill"], "output"),
        ],
        {"k255": np.array(255.0), "one": np.array(1.0), "colour": np.array(colour).reshape(1, 3, 1, 1)},
    )


@dataclass
class Apps:
    client: TestClient
    lama_file: Path


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    """One app for the module, with a stand-in LaMa that `plain` takes away."""
    root = tmp_path_factory.mktemp("lama")
    files = {"lama": ("object-eraser-colorize", "lama_fp32.onnx", lama_stand_in())}
    manifest = stand_in_manifest(root / "manifest.json", root / "models", files)
    for client in app_client(root, AI_MANIFEST=str(manifest), MODELS_DIR=str(root / "models")):
        yield Apps(client, root / "models" / "object-eraser-colorize" / "lama" / "lama_fp32.onnx")


@pytest.fixture
def with_lama(apps: Apps) -> TestClient:
    assert apps.lama_file.is_file()
    return apps.client


@pytest.fixture
def plain(apps: Apps) -> Iterator[TestClient]:
    """The app with LaMa uninstalled for one test."""
    with uninstalled(apps.lama_file):
        yield apps.client


def scene(width: int = 320, height: int = 240) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(picture: a dark disc drawn on a gradient, the clean gradient, mask: the disc and a margin)."""
    clean = gradient(width, height)
    picture = clean.copy()
    cv2.circle(picture, (150, 110), 30, (20, 20, 30), -1)
    mask = np.zeros((height, width), np.uint8)
    cv2.circle(mask, (150, 110), 36, 255, -1)
    return picture, clean, mask


def erase(client: TestClient, picture: np.ndarray, mask: np.ndarray, settings: dict | None = None, **kw) -> dict:
    return run_long(client, "erase-object", png(picture), settings or {}, extra={"mask": ("mask.png", png(mask))}, **kw)


def test_opencv_removes_a_drawn_object_from_a_gradient(plain: TestClient) -> None:
    picture, clean, mask = scene()
    body = erase(plain, picture, mask, name="photo.png")
    assert body["engine"] == "opencv"
    assert body["downloadUrl"].split("?")[0].endswith("/photo_erased.png")
    assert body["maskedPixels"] == int((mask > 0).sum())
    out = decode(fetch(plain, body))
    hole = mask > 0
    assert (out[~hole] == picture[~hole]).all()  # untouched outside the mask
    # The dark disc is gone: the filled pixels are the gradient's, within a few levels.
    assert np.abs(out[hole].astype(int) - clean[hole]).mean() < 8
    assert np.abs(picture[hole].astype(int) - clean[hole]).mean() > 60


def test_lama_fills_exactly_the_masked_pixels(with_lama: TestClient) -> None:
    picture, _, mask = scene()
    body = erase(with_lama, picture, mask)
    assert body["engine"] == "lama"
    out = decode(fetch(with_lama, body))
    hole = mask > 0
    assert (out[~hole] == picture[~hole]).all()
    inner = cv2.erode(mask, np.ones((5, 5), np.uint8)) > 0
    assert np.abs(out[inner].astype(int) - FILL).max() <= 2


def test_lama_on_a_large_picture_with_a_smaller_mask_file(with_lama: TestClient) -> None:
    """A 1400x1000 picture: the region's window is scaled down to 512 and back; the mask upload is
    half the picture's size and is stretched to it; JPEG in, PNG out as asked."""
    picture = gradient(1400, 1000)
    half = np.zeros((500, 700), np.uint8)
    half[50:450, 100:600] = 255  # 800x800 px in the picture: a window bigger than 512
    half[20:30, 650:690] = 255  # and a second, small region far away: filled at full resolution
    body = run_long(with_lama, "erase-object", jpeg(picture, q=95), {"format": "png"},
                    extra={"mask": ("mask.png", png(half))}, name="big.jpg")  # fmt: skip
    assert body["downloadUrl"].split("?")[0].endswith("/big_erased.png")
    assert (body["width"], body["height"]) == (1400, 1000)
    out = decode(fetch(with_lama, body))
    assert np.abs(out[110:890, 210:1190].astype(int) - FILL).max() <= 3
    assert np.abs(out[42:58, 1302:1378].astype(int) - FILL).max() <= 3
    assert np.abs(out[950:, :1000].astype(int) - picture[950:, :1000]).mean() < 3  # JPEG round trip only


def test_an_empty_mask_is_refused(plain: TestClient) -> None:
    picture, _, mask = scene()
    failed = fail_long(plain, "erase-object", png(picture), {}, extra={"mask": ("mask.png", png(mask * 0))})
    assert failed.get("code") == "INVALID_INPUT" and "mask is empty" in failed["error"]


def test_the_mask_part_is_required(plain: TestClient) -> None:
    picture, _, _ = scene()
    r = post(plain, "erase-object", png(picture), {})
    assert r.status_code == 400, r.text


# --- ai-canvas-expand --------------------------------------------------------------------------------


def expand(client: TestClient, picture: np.ndarray, settings: dict, tier: str) -> np.ndarray:
    body = run_long(client, "ai-canvas-expand", png(picture), settings, name="scene.png")
    assert body["downloadUrl"].split("?")[0].endswith("/scene_expanded.png")
    assert body["tier"] == tier and body["engine"] == ("opencv" if tier == "fast" else "lama")
    out = decode(fetch(client, body))
    assert (body["width"], body["height"]) == (out.shape[1], out.shape[0])
    return out


SIDES = {"extendTop": 30, "extendRight": 50, "extendBottom": 0, "extendLeft": 20}


@pytest.mark.parametrize("tier", ["fast", None])
def test_fast_tier_needs_no_model_and_keeps_the_original(plain: TestClient, tier: str | None) -> None:
    picture = gradient(160, 120)
    picture[:, :40] = (230, 20, 20)  # a red left edge: the new left border should continue it
    out = expand(plain, picture, {**SIDES, "tier": tier}, "fast")  # no tier, no LaMa: fast
    assert out.shape == (150, 230, 3)
    assert (out[30:150, 20:180] == picture).all()
    left = out[30:150, :20].astype(int)
    assert np.abs(left - (230, 20, 20)).mean() < 25


@pytest.mark.parametrize("tier", ["balanced", "high", None])
def test_lama_tiers_fill_only_the_new_border(with_lama: TestClient, tier: str | None) -> None:
    picture = gradient(300, 200)
    out = expand(with_lama, picture, {**SIDES, "tier": tier}, tier or "balanced")  # no tier: the best installed
    assert out.shape == (230, 370, 3)
    assert (out[30:230, 20:320] == picture).all()
    border = np.ones(out.shape[:2], bool)
    border[30:230, 20:320] = False
    # Away from the seam (scaling back blends the first pixels) the border is the stand-in's colour.
    inner = cv2.erode(border.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert np.abs(out[inner].astype(int) - FILL).max() <= 3


def test_lama_tiers_answer_501_without_the_model(plain: TestClient) -> None:
    for tier in ("balanced", "high"):
        r = post(plain, "ai-canvas-expand", png(gradient(64, 48)), {**SIDES, "tier": tier})
        assert r.status_code == 501, r.text  # refused before the upload becomes a job
        body = r.json()
        assert body["code"] == "FEATURE_NOT_INSTALLED" and "'lama'" in body["error"]
        assert body["feature"] == "object-eraser-colorize" and body["featureName"] == "Object Eraser & Colorize"
        assert isinstance(body["estimatedSize"], int)


def test_canvas_expand_refuses_nothing_to_do_and_oversized_results(plain: TestClient) -> None:
    failed = fail_long(plain, "ai-canvas-expand", png(gradient(64, 48)), {"tier": "fast"})
    assert failed.get("code") == "INVALID_INPUT" and "Nothing to expand" in failed["error"]
    failed = fail_long(
        plain, "ai-canvas-expand", png(gradient(64, 48)), {**{key: 8192 for key in SIDES}, "tier": "fast"}
    )
    assert failed.get("code") == "IMAGE_TOO_LARGE", failed
