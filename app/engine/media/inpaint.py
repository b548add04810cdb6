"""Filling parts of a picture: LaMa (ONNX) when installed, OpenCV inpainting otherwise; outpainting
(new canvas borders) for ai-canvas-expand.

    mask = inpaint.load_mask(ctx.extra["mask"], width, height)     # H x W bool, True = fill
    rgb, engine = inpaint.erase(rgb, mask)                         # engine: "lama" or "opencv"

LaMa (the Carve/LaMa-ONNX export) takes a fixed 512x512 picture: `image` [1,3,512,512] RGB 0..1 and
`mask` [1,1,512,512] (1 = fill), and answers `output` [1,3,512,512] RGB in 0..255 (0..1 exports are
recognised too). Each masked region is cut out with context around it (at least 512 px when the
picture has them, so small repairs run at full resolution), fitted into 512x512 without distortion,
filled, scaled back, and only the masked pixels are pasted: the rest of the picture is untouched.

Only tool run functions import this module (it imports numpy and OpenCV).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.engine.ai import bundles
from app.engine.media import onnx, vips
from app.engine.tool import InputFile, InputRejected

BUNDLE = "object-eraser-colorize"
LAMA = "lama"
SIZE = 512  # LaMa's fixed input side
MAX_REGIONS = 12  # separate masked regions filled one by one; more than this are filled as one
Progress = Callable[[int, int], None]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1


# --- masks -----------------------------------------------------------------------------------------


def load_mask(part: InputFile, width: int, height: int) -> np.ndarray:
    """The mask upload as H x W bool (True = fill): white (or any light, opaque) paint marks the area.

    Transparent pixels count as unpainted; a mask of another size is stretched to the picture's."""
    image = vips.first_page(vips.load(Path(part.path), part.kind, sequential=False))
    if image.hasalpha():
        image = image.flatten(background=[0] * (image.bands - 1))
    if image.interpretation not in ("b-w", "grey16") or image.format != "uchar":
        image = image.colourspace("b-w").cast("uchar")
    image = image.extract_band(0)
    if (image.width, image.height) != (width, height):
        image = image.resize(width / image.width, vscale=height / image.height, kernel="nearest")
    mask = image.numpy() >= 128
    if not mask.any():
        raise InputRejected("The mask is empty: paint the area to erase in white on black", 400, "INVALID_INPUT")
    if mask.all():
        raise InputRejected("The mask covers the whole image: nothing is left to fill it from", 400, "INVALID_INPUT")
    return mask


# --- engines ---------------------------------------------------------------------------------------


def lama_path() -> Path | None:
    """The installed LaMa model, or None."""
    return bundles.model_path(LAMA, BUNDLE) if bundles.model_present(LAMA) else None


def opencv(rgb: np.ndarray, mask: np.ndarray, radius: int = 5) -> np.ndarray:
    """OpenCV's Telea fast-marching inpainting: smooth fills, fine for thin or small areas."""
    filled = cv2.inpaint(np.ascontiguousarray(rgb), mask.astype(np.uint8) * 255, radius, cv2.INPAINT_TELEA)
    out = rgb.copy()
    out[mask] = filled[mask]
    return out


def _feed_names(session: Any) -> tuple[str, str]:
    """(image input, mask input): by name, else the 3-channel and the 1-channel input."""
    inputs = session.get_inputs()
    names = {i.name for i in inputs}
    if {"image", "mask"} <= names:
        return "image", "mask"
    by_channels = {i.shape[1] if len(i.shape) == 4 else None: i.name for i in inputs}
    if 3 in by_channels and 1 in by_channels:
        return by_channels[3], by_channels[1]
    raise RuntimeError(f"the LaMa model's inputs are not image and mask: {sorted(names)}")


def _lama_square(session: Any, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """LaMa on a picture of at most 512x512 (padded to it by reflection); returns the filled picture."""
    h, w = rgb.shape[:2]
    pad = ((0, SIZE - h), (0, SIZE - w))
    image = np.pad(rgb, (*pad, (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")
    hole = np.pad(mask, pad, mode="constant")
    tensor = image.astype(np.float32).transpose(2, 0, 1)[None] / 255.0
    holes = hole.astype(np.float32)[None, None]
    tensor *= 1.0 - holes  # what LaMa was trained on: the masked area blanked
    image_name, mask_name = _feed_names(session)
    (out,) = session.run(None, {image_name: tensor, mask_name: holes})[:1]
    result = np.asarray(out[0], dtype=np.float32).transpose(1, 2, 0)
    if float(result.max()) <= 1.5:  # an export that answers 0..1 rather than 0..255
        result = result * 255.0
    return np.clip(result[:h, :w] + 0.5, 0, 255).astype(np.uint8)


def _lama_window(session: Any, rgb: np.ndarray, mask: np.ndarray, box: Box) -> None:
    """Fills mask's pixels inside box (x0, y0, x1, y1) of rgb in place, by LaMa at <= 512 px."""
    x0, y0, x1, y1 = box
    crop, hole = rgb[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    h, w = crop.shape[:2]
    factor = min(1.0, SIZE / max(h, w))
    if factor < 1.0:
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        # Any masked pixel under a small pixel makes it masked: the fill covers every hole pixel.
        small_hole = cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
        filled = cv2.resize(_lama_square(session, small, small_hole), (w, h), interpolation=cv2.INTER_CUBIC)
    else:
        filled = _lama_square(session, crop, hole)
    crop[hole] = filled[hole]


def _window_around(box: Box, width: int, height: int) -> Box:
    """A square around a region's box with as much context again (at least 512 px), inside the picture."""
    x0, y0, x1, y1 = box
    side = max(SIZE, 2 * max(x1 - x0, y1 - y0))

    def span(lo: int, hi: int, limit: int) -> tuple[int, int]:
        if side >= limit:
            return 0, limit
        start = min(max(0, (lo + hi - side) // 2), limit - side)
        return start, start + side

    wx0, wx1 = span(x0, x1, width)
    wy0, wy1 = span(y0, y1, height)
    return wx0, wy0, wx1, wy1


def regions(mask: np.ndarray) -> list[Box]:
    """Boxes (x0, y0, x1, y1) of the mask's separate areas (near pieces together), smallest first: a
    small area gets a full-resolution window of its own before a large one's scaled window covers it."""
    grouped = cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    boxes = [(int(x), int(y), int(x + w), int(y + h), int(area)) for x, y, w, h, area in stats[1:count]]
    if len(boxes) > MAX_REGIONS:
        ys, xs = np.nonzero(mask)
        return [(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)]
    return [b[:4] for b in sorted(boxes, key=lambda b: b[4])]


def _fill_windows(
    session: Any, rgb: np.ndarray, hole: np.ndarray, windows: list[Box], progress: Progress | None
) -> None:
    """Fills `hole` window by window, in order; what one window filled is context for the next."""
    for done, (x0, y0, x1, y1) in enumerate(windows, 1):
        if hole[y0:y1, x0:x1].any():
            _lama_window(session, rgb, hole, (x0, y0, x1, y1))
            hole[y0:y1, x0:x1] = False
        if progress is not None:
            progress(done, len(windows))


def lama(rgb: np.ndarray, mask: np.ndarray, model: Path, progress: Progress | None = None) -> np.ndarray:
    """LaMa inpainting of every masked region, each in a window of context around it."""
    out = rgb.copy()
    height, width = mask.shape
    windows = [_window_around(box, width, height) for box in regions(mask)]
    _fill_windows(onnx.session(model), out, mask.copy(), windows, progress)
    return out


def erase(rgb: np.ndarray, mask: np.ndarray, progress: Progress | None = None) -> tuple[np.ndarray, str]:
    """Fills the masked area: LaMa when installed, OpenCV otherwise; returns (picture, engine name)."""
    model = lama_path()
    if model is None:
        return opencv(rgb, mask), "opencv"
    return lama(rgb, mask, model, progress), "lama"


# --- outpainting -----------------------------------------------------------------------------------


def border_distance(height: int, width: int, inner: tuple[int, int, int, int]) -> np.ndarray:
    """Each canvas pixel's distance to the inner rectangle (left, top, w, h); 0 inside it."""
    left, top, w, h = inner
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx = np.maximum(np.maximum(left - xs, xs - (left + w - 1)), 0)
    dy = np.maximum(np.maximum(top - ys, ys - (top + h - 1)), 0)
    return np.sqrt(dx * dx + dy * dy)


def extend_fast(rgb: np.ndarray, top: int, right: int, bottom: int, left: int) -> np.ndarray:
    """New borders without a model: the picture mirrored outwards, blurring more with the distance."""
    canvas = cv2.copyMakeBorder(rgb, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    height, width = canvas.shape[:2]
    reach = float(max(top, right, bottom, left))
    distance = border_distance(height, width, (left, top, rgb.shape[1], rgb.shape[0]))
    soft = cv2.GaussianBlur(canvas, (0, 0), max(1.0, reach / 6))
    softer = cv2.GaussianBlur(canvas, (0, 0), max(2.0, reach / 2))
    t = np.clip(distance / max(1.0, reach), 0, 1)[..., None]
    # Near the picture: its mirror image, softened; far out: colour and light only.
    near = canvas * (1 - np.minimum(1, 3 * t)) + soft * np.minimum(1, 3 * t)
    out = near * (1 - t) + softer * t
    result = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    result[top : top + rgb.shape[0], left : left + rgb.shape[1]] = rgb
    return result


def _grid(length: int, side: int, step: int) -> list[int]:
    if length <= side:
        return [0]
    starts = list(range(0, length - side, step))
    return [*starts, length - side]


def extend_lama(
    rgb: np.ndarray,
    top: int,
    right: int,
    bottom: int,
    left: int,
    model: Path,
    high: bool = False,
    progress: Progress | None = None,
) -> np.ndarray:
    """New borders by LaMa. balanced: one pass over the whole canvas at 512 px; high: windows along
    the border at up to full resolution, nearest the picture first, each seeing what earlier ones made."""
    session = onnx.session(model)
    canvas = extend_fast(rgb, top, right, bottom, left)  # a start, and what padding reflects
    height, width = canvas.shape[:2]
    known = np.zeros((height, width), dtype=bool)
    known[top : top + rgb.shape[0], left : left + rgb.shape[1]] = True
    windows = _border_windows(known, max(top, right, bottom, left)) if high else [(0, 0, width, height)]
    _fill_windows(session, canvas, ~known, windows, progress)
    return canvas


def _border_windows(known: np.ndarray, reach: int) -> list[Box]:
    """Overlapping squares over the canvas that still hold unknown pixels, nearest the picture first."""
    height, width = known.shape
    side = min(max(SIZE, 2 * reach), 2048, max(height, width))
    step = max(1, side * 3 // 4)
    windows = [
        (x, y, min(width, x + side), min(height, y + side))
        for y in _grid(height, side, step)
        for x in _grid(width, side, step)
    ]
    windows = [w for w in windows if not known[w[1] : w[3], w[0] : w[2]].all()]
    ys, xs = np.nonzero(known)
    inner = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    distance = border_distance(height, width, inner)
    windows.sort(key=lambda w: float(distance[w[1] : w[3], w[0] : w[2]].min()))
    return windows
