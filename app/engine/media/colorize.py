"""DDColor colourisation, shared by colorize and restore-photo.

The network sees a 512 x 512 grey RGB copy (the image's own lightness with a* = b* = 0, RGB 0..1, no
mean/std normalisation) and predicts the Lab a*/b* channels at that size. Those are resized to the
full image and joined with the image's own full-resolution L, so edges and detail stay exactly the
input's: only colour comes from the model. `intensity` scales a*/b* (0 = grey, 100 = as predicted).

Imports numpy and cv2: only tool run functions import this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from app.engine.ai import bundles
from app.engine.media import onnx

BUNDLE = "object-eraser-colorize"
MODEL = "ddcolor"
DEFAULT_SIZE = 512


def model_installed() -> bool:
    return bundles.model_present(MODEL)


def _side(shape: Sequence[Any]) -> int:
    """The square input size a model declares ([1, 3, S, S]), or DEFAULT_SIZE for dynamic axes."""
    dims = [d for d in list(shape)[2:] if isinstance(d, int) and d > 0]
    return dims[0] if dims else DEFAULT_SIZE


def colorize(rgb: np.ndarray, intensity: float = 100) -> np.ndarray:
    """An H x W x 3 uint8 RGB image coloured by DDColor (its lightness kept)."""
    session = onnx.session(bundles.model_path(MODEL, BUNDLE))
    first = session.get_inputs()[0]
    side = _side(first.shape)
    height, width = rgb.shape[:2]

    # Lab in OpenCV's float convention: L 0..100, a/b about -127..127 (what DDColor was trained on).
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    small = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    small_l = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)[:, :, :1]
    grey_lab = np.concatenate([small_l, np.zeros_like(small_l), np.zeros_like(small_l)], axis=-1)
    grey_rgb = cv2.cvtColor(grey_lab, cv2.COLOR_LAB2RGB)
    feed = np.ascontiguousarray(grey_rgb.transpose(2, 0, 1)[None], dtype=np.float32)

    (ab,) = session.run([session.get_outputs()[0].name], {first.name: feed})
    ab = np.asarray(ab, dtype=np.float32)[0].transpose(1, 2, 0)  # side x side x 2
    ab = cv2.resize(ab, (width, height), interpolation=cv2.INTER_CUBIC)
    ab *= min(2.0, max(0.0, intensity / 100))
    out = cv2.cvtColor(np.concatenate([lab[:, :, :1], ab], axis=-1), cv2.COLOR_LAB2RGB)
    return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)


def is_greyscale(rgb: np.ndarray, tolerance: float = 6.0) -> bool:
    """Whether an RGB image carries (nearly) no colour: its channels differ by less than `tolerance`."""
    step = max(1, int(max(rgb.shape[:2]) // 512))
    sample = rgb[::step, ::step].astype(np.int16)
    spread = sample.max(axis=2) - sample.min(axis=2)
    return float(np.percentile(spread, 95)) < tolerance
