"""Shared pieces of the photo AI tool tests: the portrait, generated pictures, tiny stand-in models
for the downloadable GFPGAN, CodeFormer and DDColor (same input/output names and shapes as the real
exports), an app that has them installed, and calls through the HTTP API.

The stand-ins do something simple and checkable, so the tools' real pre- and post-processing
(normalisation, alignment, paste-back, Lab recombination) is what the tests measure:
- gfpgan: y = -x, i.e. the aligned face comes back as its photographic negative;
- codeformer: y = x * (2w - 1): fidelity 1 returns the face, 0 its negative;
- ddcolor: a*, b* = (40, 30) everywhere (a warm orange), whatever the input.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyvips
from fastapi.testclient import TestClient

from tests.conftest import module_app
from tests.tools.av import fetch, run_long, wait

PICTURES = Path(__file__).parent / "pictures"
# A crop of scikit-image's astronaut.png (NASA photo of Eileen Collins, public domain); see pictures/README.md.
PORTRAIT = PICTURES / "portrait.jpg"
# The face in it as OpenCV's Haar cascade finds it (x, y, w, h), and the eye centres it finds.
FACE_BOX = (72, 63, 104, 104)
EYES = ((102, 101), (147, 104))
DDCOLOR_AB = (40.0, 30.0)


# --- pictures --------------------------------------------------------------------------------------


def rgb_of(data: bytes) -> np.ndarray:
    image = pyvips.Image.new_from_buffer(data, "")
    if image.bands == 4:
        image = image.extract_band(0, n=3)
    return image.numpy()


def encode(rgb: np.ndarray, suffix: str = ".png", **options: Any) -> bytes:
    return pyvips.Image.new_from_array(np.ascontiguousarray(rgb.astype(np.uint8))).write_to_buffer(suffix, **options)


def portrait() -> np.ndarray:
    return rgb_of(PORTRAIT.read_bytes())


def flat_edge(width: int, height: int, sigma: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(clean, noisy): a dark left half and a light right half, Gaussian noise of `sigma` on each channel."""
    clean = np.zeros((height, width, 3), np.float32)
    clean[:, : width // 2] = (70, 90, 110)
    clean[:, width // 2 :] = (170, 160, 150)
    noisy = clean + np.random.default_rng(seed).normal(0, sigma, clean.shape)
    return clean.astype(np.uint8), np.clip(noisy, 0, 255).astype(np.uint8)


# --- stand-in models -------------------------------------------------------------------------------


def _save(model: Any, path: Path) -> None:
    import onnx

    model.ir_version = 9  # readable by every onnxruntime Lutra allows
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def _image(name: str, channels: int = 3) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, channels, 512, 512])


def gfpgan_standin(path: Path) -> None:
    """GFPGAN 1.4 (facefusion export): input 'input' [1,3,512,512] in [-1,1], output 'output' the same."""
    from onnx import helper

    graph = helper.make_graph(
        [helper.make_node("Neg", ["input"], ["output"])], "gfpgan-standin", [_image("input")], [_image("output")]
    )
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def codeformer_standin(path: Path, image: str = "input", weight: str = "weight", double: bool = True) -> None:
    """CodeFormer: image input [1,3,512,512] plus a fidelity weight (facefusion: 'weight', double [1])."""
    from onnx import TensorProto, helper

    kind = TensorProto.DOUBLE if double else TensorProto.FLOAT
    nodes = [
        helper.make_node("Cast", [weight], ["w_float"], to=TensorProto.FLOAT),
        helper.make_node("Constant", [], ["two"], value=helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])),
        helper.make_node("Constant", [], ["one"], value=helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])),
        helper.make_node("Mul", ["w_float", "two"], ["w2"]),
        helper.make_node("Sub", ["w2", "one"], ["k"]),
        helper.make_node("Mul", [image, "k"], ["output"]),
    ]
    inputs = [_image(image), helper.make_tensor_value_info(weight, kind, [1] if double else [])]
    graph = helper.make_graph(nodes, "codeformer-standin", inputs, [_image("output")])
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def ddcolor_standin(path: Path) -> None:
    """DDColor: input 'input' [1,3,512,512] (grey RGB 0..1), output 'output' [1,2,512,512] Lab a*/b*."""
    from onnx import TensorProto, helper

    def const(name: str, dims: list[int], values: list[Any], kind: int = TensorProto.INT64) -> Any:
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, kind, dims, values))

    nodes = [
        const("starts", [1], [0]),
        const("ends", [1], [2]),
        const("axes", [1], [1]),
        const("zero", [], [0.0], TensorProto.FLOAT),
        const("ab", [1, 2, 1, 1], list(DDCOLOR_AB), TensorProto.FLOAT),
        helper.make_node("Slice", ["input", "starts", "ends", "axes"], ["two"]),
        helper.make_node("Mul", ["two", "zero"], ["nothing"]),
        helper.make_node("Add", ["nothing", "ab"], ["output"]),
    ]
    graph = helper.make_graph(nodes, "ddcolor-standin", [_image("input")], [_image("output", 2)])
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


# (model id, bundle, file name, builder): the manifest's own ids and file names.
STANDINS = (
    ("gfpgan", "photo-restoration", "gfpgan_1.4.onnx", gfpgan_standin),
    ("codeformer", "photo-restoration", "codeformer.onnx", codeformer_standin),
    ("ddcolor", "object-eraser-colorize", "ddcolor-tiny-fp16.onnx", ddcolor_standin),
)


def install_standins(root: Path, only: tuple[str, ...] | None = None) -> Path:
    """Builds the stand-ins under root/models/<bundle>/<id>/ and writes root/manifest.json; returns it."""
    entries = []
    for model_id, bundle, name, build in STANDINS:
        if only is not None and model_id not in only:
            continue
        path = root / "models" / bundle / model_id / name
        build(path)
        data = path.read_bytes()
        entries.append(
            {
                "id": model_id,
                "bundle": bundle,
                "description": f"test stand-in for {model_id}",
                "license": "MIT",
                "files": [{"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}],
            }
        )
    manifest = root / "manifest.json"
    manifest.write_text(json.dumps({"bundles": [], "models": entries}))
    return manifest


# --- an app ----------------------------------------------------------------------------------------


def app_client(tmp: Path, **env: str) -> Iterator[TestClient]:
    """One signed-in app for a test module, with the given extra environment (AI_MANIFEST, MODELS_DIR)."""
    with module_app(tmp / "data", **env) as client:
        yield client


def standin_app(tmp: Path) -> Iterator[TestClient]:
    manifest = install_standins(tmp)
    yield from app_client(tmp, AI_MANIFEST=str(manifest), MODELS_DIR=str(tmp / "models"))


# --- calls -----------------------------------------------------------------------------------------


def run_image(
    client: TestClient, tool: str, data: bytes, settings: dict[str, Any], tmp: Path, name: str = "in.png"
) -> tuple[np.ndarray, dict[str, Any]]:
    """Runs a long image tool to completion; returns the result's RGB pixels and the result JSON."""
    result = run_long(client, f"image/{tool}", [(name, data)], settings)
    return rgb_of(fetch(client, result, tmp).read_bytes()), result


def post_image(client: TestClient, tool: str, data: bytes, settings: dict[str, Any], name: str = "in.png") -> Any:
    return client.post(
        f"/api/v1/tools/image/{tool}",
        files={"file": (name, data, "application/octet-stream")},
        data={"settings": json.dumps(settings)},
    )


def failed_frame(client: TestClient, response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    final = wait(client, response.json()["jobId"])
    assert final["status"] == "failed", final
    return final


def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel mean absolute difference of two RGB arrays."""
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).mean(axis=2)
