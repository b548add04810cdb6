"""Generated test pictures for the cut-out, crop, passport and seam-carving tests, and HTTP helpers.

`person_scene` draws a dark, person-like subject (head and shoulders) on a light, textured background
and returns the drawn shape, so a test can measure a mask's IoU against it. `portrait` draws a flat
cartoon face (hair, eyes with brows, nose, mouth, neck and shoulders) that OpenCV's frontal-face Haar
cascade finds at the sizes the tests use (the cascade is picky about drawn faces: keep to those, or
check a new size first), so passport and face-crop tests know exactly where crown, face and chin are.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pyvips
from fastapi.testclient import TestClient

from tests.tools.files.helpers import wait


def png(rgb: np.ndarray) -> bytes:
    array = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = array.shape[:2]
    bands = 1 if array.ndim == 2 else array.shape[2]
    image = pyvips.Image.new_from_memory(array.tobytes(), width, height, bands, "uchar")
    return image.write_to_buffer(".png")


def jpeg(rgb: np.ndarray, q: int = 92) -> bytes:
    array = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = array.shape[:2]
    image = pyvips.Image.new_from_memory(array.tobytes(), width, height, 3, "uchar")
    return image.write_to_buffer(".jpg", Q=q)


def decode(data: bytes) -> np.ndarray:
    """H x W x bands uint8 array of an encoded image."""
    image = pyvips.Image.new_from_buffer(data, "")
    if image.format != "uchar":
        image = image.cast("uchar")
    return np.ndarray(
        buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, image.bands)
    ).copy()


def textured_background(width: int, height: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    bg = np.stack(
        [
            225 + 15 * np.sin(xx / 9.0),
            220 + 15 * np.cos(yy / 11.0),
            205 + 10 * np.sin((xx + yy) / 13.0),
        ],
        axis=-1,
    )
    bg = bg + rng.normal(0, 6, bg.shape)
    return np.clip(bg, 0, 255)


def person_scene(width: int = 480, height: int = 360, cx: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 picture, bool mask of the drawn subject): a dark head-and-shoulders blob on a light
    textured background."""
    yy, xx = np.mgrid[0:height, 0:width]
    cx = width * 0.5 if cx is None else cx
    head = (xx - cx) ** 2 + (yy - height * 0.32) ** 2 < (height * 0.13) ** 2
    body = ((xx - cx) / (width * 0.2)) ** 2 + ((yy - height * 0.85) / (height * 0.38)) ** 2 < 1
    shape = head | body
    subject = np.stack([60 + 20 * np.sin(xx / 5.0), 40 + 0 * xx, 90 + 0 * xx], axis=-1)
    picture = np.where(shape[..., None], subject, textured_background(width, height))
    return np.clip(picture, 0, 255).astype(np.uint8), shape


@dataclass
class Portrait:
    rgb: np.ndarray
    cx: int  # face centre x
    cy: int  # face centre y
    face_width: int
    crown: int  # top of the hair
    chin: int  # bottom of the face ellipse


def portrait(
    width: int = 400,
    height: int = 500,
    cx: int = 200,
    cy: int = 230,
    face_width: int = 150,
    background: tuple[int, int, int] = (235, 235, 235),
) -> Portrait:
    """A cartoon head-and-shoulders portrait that the Haar frontal-face cascade detects."""
    fw = face_width
    img = np.full((height, width, 3), background, np.uint8)
    hair_centre, hair_axes = (cx, cy - int(fw * 0.25)), (int(fw * 0.58), int(fw * 0.75))
    cv2.ellipse(img, hair_centre, hair_axes, 0, 0, 360, (40, 30, 25), -1)
    neck = ((cx - int(fw * 0.22), cy + int(fw * 0.5)), (cx + int(fw * 0.22), cy + int(fw * 1.0)))
    cv2.rectangle(img, neck[0], neck[1], (170, 130, 110), -1)
    cv2.ellipse(img, (cx, cy + int(fw * 1.6)), (int(fw * 1.3), int(fw * 0.75)), 0, 0, 360, (50, 60, 120), -1)
    cv2.ellipse(img, (cx, cy), (int(fw * 0.5), int(fw * 0.65)), 0, 0, 360, (200, 160, 140), -1)
    e, ey = int(fw * 0.2), cy - int(fw * 0.12)
    for dx in (-e, e):
        cv2.ellipse(img, (cx + dx, ey - int(fw * 0.1)), (int(fw * 0.12), int(fw * 0.03)), 0, 0, 360, (60, 40, 30), -1)
        cv2.ellipse(img, (cx + dx, ey), (int(fw * 0.09), int(fw * 0.045)), 0, 0, 360, (250, 250, 250), -1)
        cv2.circle(img, (cx + dx, ey), int(fw * 0.035), (40, 30, 20), -1)
    cv2.ellipse(img, (cx, cy + int(fw * 0.12)), (int(fw * 0.06), int(fw * 0.03)), 0, 0, 360, (150, 110, 95), -1)
    cv2.ellipse(img, (cx, cy + int(fw * 0.3)), (int(fw * 0.16), int(fw * 0.04)), 0, 0, 360, (130, 60, 60), -1)
    img = cv2.GaussianBlur(img, (0, 0), 3)
    return Portrait(img, cx, cy, fw, crown=hair_centre[1] - hair_axes[1], chin=cy + int(fw * 0.65))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


# --- HTTP --------------------------------------------------------------------------------------------


def post(
    client: TestClient,
    path: str,
    data: bytes,
    settings: dict[str, Any] | None = None,
    name: str = "input.png",
    extra: dict[str, tuple[str, bytes]] | None = None,
) -> httpx.Response:
    files = [("file", (name, data, "application/octet-stream"))]
    for field, (extra_name, extra_data) in (extra or {}).items():
        files.append((field, (extra_name, extra_data, "application/octet-stream")))
    return client.post(f"/api/v1/tools/image/{path}", files=files, data={"settings": json.dumps(settings or {})})


def run_long(client: TestClient, path: str, data: bytes, settings: dict[str, Any] | None = None, **kw: Any) -> dict:
    """A long tool: 202, then the completed SSE frame's result."""
    r = post(client, path, data, settings, **kw)
    assert r.status_code == 202, r.text
    final = wait(client, r.json()["jobId"])
    assert final["status"] == "completed", final
    return final["result"]


def fail_long(client: TestClient, path: str, data: bytes, settings: dict[str, Any] | None = None, **kw: Any) -> dict:
    """A long tool that is refused at once (returns the error body) or whose job fails (the failed frame)."""
    r = post(client, path, data, settings, **kw)
    if r.status_code != 202:
        return {"status_code": r.status_code, **r.json()}
    final = wait(client, r.json()["jobId"])
    assert final["status"] == "failed", final
    return final


def run_fast(client: TestClient, path: str, data: bytes, settings: dict[str, Any] | None = None, **kw: Any) -> dict:
    r = post(client, path, data, settings, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def fetch(client: TestClient, body: dict[str, Any], url: str | None = None) -> bytes:
    r = client.get(url or body["downloadUrl"])
    assert r.status_code == 200, r.text
    return r.content


# --- stand-in models -----------------------------------------------------------------------------------


def birefnet_stand_in(side: int = 1024, input_name: str = "input_image") -> bytes:
    """A tiny ONNX model with BiRefNet's interface (NCHW [1,3,S,S] ImageNet-normalised float in, [1,1,S,S]
    logits out) that calls dark pixels the subject: logits = 4 * (0.5 - channel mean)."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, 3, side, side])
    y = helper.make_tensor_value_info("output_image", TensorProto.FLOAT, [1, 1, side, side])
    half = helper.make_tensor("half", TensorProto.FLOAT, [1], [0.5])
    gain = helper.make_tensor("gain", TensorProto.FLOAT, [1], [-4.0])
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["mean"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["mean", "half"], ["centred"]),
        helper.make_node("Mul", ["centred", "gain"], ["output_image"]),
    ]
    graph = helper.make_graph(nodes, "birefnet_stand_in", [x], [y], [half, gain])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def stand_in_manifest(path: Path, models_dir: Path, models: dict[str, tuple[str, str, bytes]]) -> Path:
    """Writes an AI_MANIFEST override ({model id: (bundle, file name, bytes)}) and places the files in
    MODELS_DIR/<bundle>/<model id>/<file name>, as an install would."""
    import hashlib

    entries = []
    for model_id, (bundle, name, body) in models.items():
        folder = models_dir / bundle / model_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(body)
        digest = hashlib.sha256(body).hexdigest()
        entries.append(
            {
                "id": model_id,
                "bundle": bundle,
                "description": "test stand-in",
                "license": "MIT",
                "files": [{"name": name, "size": len(body), "sha256": digest, "url": f"http://127.0.0.1:9/{name}"}],
            }
        )
    path.write_text(json.dumps({"bundles": [], "models": entries}))
    return path


def yunet_stand_in() -> bytes:
    """A tiny ONNX model with YuNet's interface for OpenCV's FaceDetectorYN (input "input" [1,3,H,W] raw
    BGR; outputs cls/obj [1,N,1], bbox [1,N,4] and kps [1,N,10] for strides 8, 16 and 32) that calls red
    things faces: on the stride-32 grid a cell scores by the redness (R - G) of its 5 x 5 neighbourhood, so
    a red 160 px square on the grid gives one face, 160 px square around its centre cell, with fixed
    landmarks. Strides 8 and 16 score 0."""
    from onnx import TensorProto, helper

    nodes, inits = [], []

    def const(name: str, values: list[float], dims: list[int], kind: int = TensorProto.FLOAT) -> None:
        inits.append(helper.make_tensor(name, kind, dims, values))

    const("zero", [0.0], [1])
    const("pivot", [180.0], [1])
    const("gain", [0.2], [1])
    const("redness", [0.0, -1.0, 1.0], [1, 3, 1, 1])  # B, G, R weights
    const("box", [0.5, 0.5, math.log(5), math.log(5)], [1, 4, 1, 1])
    const("kps", [-0.6, -0.4, 0.6, -0.4, 0.0, 0.2, -0.5, 0.8, 0.5, 0.8], [1, 10, 1, 1])
    for name, width in (("shape1", 1), ("shape4", 4), ("shape10", 10)):
        const(name, [1, -1, width], [3], TensorProto.INT64)
    for s in (8, 16, 32):
        if s == 32:
            nodes += [
                helper.make_node(
                    "AveragePool", ["input"], ["pool32"], kernel_shape=[160, 160], strides=[32, 32], pads=[64] * 4
                ),
                helper.make_node("Conv", ["pool32", "redness"], ["red32"]),
                helper.make_node("Sub", ["red32", "pivot"], ["centred32"]),
                helper.make_node("Mul", ["centred32", "gain"], ["logit32"]),
                helper.make_node("Sigmoid", ["logit32"], ["score32"]),
                helper.make_node("Mul", ["red32", "zero"], ["z32"]),
            ]
        else:
            nodes += [
                helper.make_node("AveragePool", ["input"], [f"pool{s}"], kernel_shape=[s, s], strides=[s, s]),
                helper.make_node("ReduceMean", [f"pool{s}"], [f"mean{s}"], axes=[1], keepdims=1),
                helper.make_node("Mul", [f"mean{s}", "zero"], [f"z{s}"]),
                helper.make_node("Identity", [f"z{s}"], [f"score{s}"]),
            ]
        nodes += [
            helper.make_node("Reshape", [f"score{s}", "shape1"], [f"cls_{s}"]),
            helper.make_node("Reshape", [f"score{s}", "shape1"], [f"obj_{s}"]),
            helper.make_node("Concat", [f"z{s}"] * 4, [f"z4_{s}"], axis=1),
            helper.make_node("Add", [f"z4_{s}", "box"], [f"b4_{s}"]),
            helper.make_node("Transpose", [f"b4_{s}"], [f"bt_{s}"], perm=[0, 2, 3, 1]),
            helper.make_node("Reshape", [f"bt_{s}", "shape4"], [f"bbox_{s}"]),
            helper.make_node("Concat", [f"z{s}"] * 10, [f"z10_{s}"], axis=1),
            helper.make_node("Add", [f"z10_{s}", "kps"], [f"k10_{s}"]),
            helper.make_node("Transpose", [f"k10_{s}"], [f"kt_{s}"], perm=[0, 2, 3, 1]),
            helper.make_node("Reshape", [f"kt_{s}", "shape10"], [f"kps_{s}"]),
        ]
    widths = {"cls": 1, "obj": 1, "bbox": 4, "kps": 10}
    outputs = [
        helper.make_tensor_value_info(f"{kind}_{s}", TensorProto.FLOAT, [1, f"n{s}", widths[kind]])
        for kind in ("cls", "obj", "bbox", "kps")
        for s in (8, 16, 32)
    ]
    source = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])
    graph = helper.make_graph(nodes, "yunet_stand_in", [source], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()
