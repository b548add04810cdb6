"""GFPGAN / CodeFormer face restoration, shared by enhance-faces and restore-photo.

Each face is aligned to the FFHQ 512 template (five landmarks from YuNet, the two eyes from the Haar
cascade, or the box alone), cut out at the model's size, restored, and pasted back through the
inverse transform with a feathered mask, blended by `strength`.

Both models take RGB normalised to [-1, 1] as [1, 3, 512, 512] and answer the same; CodeFormer has a
second input, the fidelity weight (0 = prettiest, 1 = closest to the input), a scalar or [1] tensor of
float or double as the export declares. Inputs are found by rank, not name: exports differ
(`input`/`weight` in facefusion's, `x`/`w` in others).

Imports numpy and cv2: only tool run functions import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np

from app.engine.ai import bundles
from app.engine.media import onnx
from app.engine.media.faces import Face

BUNDLE = "photo-restoration"
MODELS = ("gfpgan", "codeformer")
DEFAULT_SIDE = 512
# FFHQ alignment (as in GFPGAN/facefusion), in units of the crop side: the eye on the image's left,
# the other eye, nose tip, the mouth corner on the image's left, the other corner.
TEMPLATE = np.array(
    [
        [0.37691676, 0.46864664],
        [0.62285697, 0.46912813],
        [0.50123859, 0.61331904],
        [0.39308822, 0.72541100],
        [0.61150205, 0.72490465],
    ],
    dtype=np.float32,
)
# YuNet's landmark names in template order (the subject's right eye is on the image's left).
LANDMARKS = ("rightEye", "leftEye", "nose", "mouthRight", "mouthLeft")
# Where the eyes sit in a Haar face box, measured on frontal portraits: eye line at 37 % of the box
# height, eyes 1/2.16 of the box width apart.
HAAR_EYE_LINE = 0.37
HAAR_EYE_SPAN = 1 / 2.16


def installed() -> list[str]:
    """The face-restoration models present on this server, in order of preference."""
    return [m for m in MODELS if bundles.model_present(m)]


def central_face(faces: Sequence[Face], width: int, height: int) -> Face | None:
    """The face nearest the image centre."""
    if not faces:
        return None
    return min(faces, key=lambda f: (f.cx - width / 2) ** 2 + (f.cy - height / 2) ** 2)


def _side(shape: Sequence[Any]) -> int:
    dims = [d for d in list(shape)[2:] if isinstance(d, int) and d > 0]
    return dims[0] if dims else DEFAULT_SIDE


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 rotation + uniform scale + shift taking two points onto two others."""
    p1, p2 = complex(*src[0]), complex(*src[1])
    q1, q2 = complex(*dst[0]), complex(*dst[1])
    z = (q2 - q1) / (p2 - p1) if p2 != p1 else 1
    t = q1 - z * p1
    return np.array([[z.real, -z.imag, t.real], [z.imag, z.real, t.imag]], dtype=np.float64)


def alignment(face: Face, side: int) -> np.ndarray:
    """The affine transform from image pixels to the model's aligned side x side crop."""
    template = TEMPLATE * side
    if all(name in face.landmarks for name in LANDMARKS):
        src = np.array([face.landmarks[n] for n in LANDMARKS], dtype=np.float32)
        matrix, _ = cv2.estimateAffinePartial2D(src, template, method=cv2.LMEDS)
        if matrix is not None:
            return matrix
    if len(face.eyes) >= 2:
        eyes = np.array(face.eyes[:2], dtype=np.float64)
    else:
        span = face.w * HAAR_EYE_SPAN
        line = face.y + face.h * HAAR_EYE_LINE
        eyes = np.array([[face.cx - span / 2, line], [face.cx + span / 2, line]], dtype=np.float64)
    return _similarity(eyes, template[:2].astype(np.float64))


def _feather(side: int) -> np.ndarray:
    """A side x side float mask: 1 inside, fading to 0 over the border (no seam where it is pasted)."""
    pad = max(2, round(side * 0.08))
    mask = np.zeros((side, side), np.float32)
    mask[pad : side - pad, pad : side - pad] = 1
    return cv2.GaussianBlur(mask, (0, 0), side * 0.035)


def _weight_feed(spec: Any, value: float) -> np.ndarray:
    dtype = np.float64 if "double" in str(spec.type) else np.float32
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in (spec.shape or [])]
    return np.full(shape, value, dtype=dtype) if shape else np.array(value, dtype=dtype)


class Restorer:
    """One loaded model (session cached per worker process) and how to feed it."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.session = onnx.session(bundles.model_path(model_id, BUNDLE))
        inputs = self.session.get_inputs()
        images = [i for i in inputs if len(i.shape or []) == 4]
        if not images:
            raise ValueError(f"{model_id}: no [1, 3, H, W] image input")
        self.image_input = images[0]
        self.weight_inputs = [i for i in inputs if i is not self.image_input]
        self.output = self.session.get_outputs()[0].name
        self.side = _side(self.image_input.shape)

    def __call__(self, crop: np.ndarray, fidelity: float) -> np.ndarray:
        """side x side x 3 uint8 RGB in, restored uint8 RGB out."""
        x = (crop.astype(np.float32) / 255 - 0.5) / 0.5
        feeds = {self.image_input.name: np.ascontiguousarray(x.transpose(2, 0, 1)[None])}
        for spec in self.weight_inputs:
            feeds[spec.name] = _weight_feed(spec, fidelity)
        (y,) = self.session.run([self.output], feeds)
        y = np.clip(np.asarray(y, dtype=np.float32)[0].transpose(1, 2, 0), -1, 1)
        return ((y + 1) / 2 * 255 + 0.5).astype(np.uint8)


def restore_faces(
    rgb: np.ndarray,
    faces: Sequence[Face],
    model_id: str,
    strength: float = 1.0,
    fidelity: float = 0.5,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """`rgb` with each face restored by the model and blended in at `strength` (0..1)."""
    restorer = Restorer(model_id)
    side = restorer.side
    out = rgb.copy()
    height, width = rgb.shape[:2]
    feather = _feather(side)
    for index, face in enumerate(faces):
        matrix = alignment(face, side)
        crop = cv2.warpAffine(rgb, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        restored = restorer(crop, fidelity)
        # Paste back only over the crop's footprint in the image (not a full-size warp per face).
        inverse = cv2.invertAffineTransform(matrix)
        corners = np.array([[0, 0, 1], [side, 0, 1], [0, side, 1], [side, side, 1]], dtype=np.float64) @ inverse.T
        left, top = np.floor(corners.min(axis=0)).astype(int)
        right, bottom = np.ceil(corners.max(axis=0)).astype(int)
        left, top, right, bottom = max(0, left), max(0, top), min(width, right), min(height, bottom)
        if right <= left or bottom <= top:
            continue
        shifted = inverse.copy()
        shifted[:, 2] -= (left, top)
        size = (right - left, bottom - top)
        back = cv2.warpAffine(restored, shifted, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.warpAffine(feather, shifted, size, flags=cv2.INTER_LINEAR, borderValue=0)
        alpha = (alpha * min(1.0, max(0.0, strength)))[:, :, None]
        region = out[top:bottom, left:right].astype(np.float32)
        mixed = region * (1 - alpha) + back.astype(np.float32) * alpha
        out[top:bottom, left:right] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        if progress is not None:
            progress(index + 1, len(faces))
    return out
