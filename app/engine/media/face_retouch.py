"""Pixel work on found faces: blurring them (blur-faces) and taking the red out of pupils (red-eye-removal).

Imports numpy and cv2: only tool run functions import this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np

from app.engine.media import faces as detection
from app.engine.media.faces import Face

Box = tuple[int, int, int, int]  # left, top, width, height

# A face box from a detector covers brows to chin; grow it so hair line, ears and jaw are covered too.
PAD_SIDES = 0.12
PAD_TOP = 0.25
PAD_BOTTOM = 0.12
REFERENCE_FACE = 200  # blurRadius is in pixels for a face this wide; bigger faces get proportionally more


def padded_box(face: Face, width: int, height: int) -> Box:
    left = max(0, round(face.x - face.w * PAD_SIDES))
    top = max(0, round(face.y - face.h * PAD_TOP))
    right = min(width, round(face.x + face.w * (1 + PAD_SIDES)))
    bottom = min(height, round(face.y + face.h * (1 + PAD_BOTTOM)))
    return left, top, max(0, right - left), max(0, bottom - top)


def blur_faces(
    rgb: np.ndarray,
    faces: Sequence[Face],
    radius: float,
    method: Literal["gaussian", "pixelate"] = "gaussian",
    shape: Literal["ellipse", "box"] = "ellipse",
) -> np.ndarray:
    """`rgb` with each face (padded) blurred or pixelated inside a feathered ellipse or box."""
    out = rgb.copy()
    height, width = rgb.shape[:2]
    for face in faces:
        left, top, w, h = padded_box(face, width, height)
        if w < 2 or h < 2:
            continue
        scale = max(1.0, face.w / REFERENCE_FACE)
        # Blur a margin around the box too, so the blurred pixels at its edge aren't mixed with sharp ones.
        margin = round(3 * radius * scale) if method == "gaussian" else 0
        x0, y0 = max(0, left - margin), max(0, top - margin)
        x1, y1 = min(width, left + w + margin), min(height, top + h + margin)
        region = rgb[y0:y1, x0:x1]
        if method == "gaussian":
            hidden = cv2.GaussianBlur(region, (0, 0), max(0.5, radius * scale))
        else:
            block = max(2, round(radius * scale / 2))
            small = cv2.resize(
                region,
                (max(1, region.shape[1] // block), max(1, region.shape[0] // block)),
                interpolation=cv2.INTER_AREA,
            )
            hidden = cv2.resize(small, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_NEAREST)
        mask = np.zeros(region.shape[:2], np.float32)
        bx, by = left - x0, top - y0
        if shape == "ellipse":
            cv2.ellipse(mask, (bx + w // 2, by + h // 2), (w // 2, h // 2), 0, 0, 360, 1.0, -1)
        else:
            mask[by : by + h, bx : bx + w] = 1.0
        feather = max(1.0, min(w, h) * 0.03)
        mask = cv2.GaussianBlur(mask, (0, 0), feather)
        # Inside the shape the face must be hidden whatever the feathering does.
        inner = np.zeros_like(mask)
        if shape == "ellipse":
            cv2.ellipse(inner, (bx + w // 2, by + h // 2), (max(1, w // 2 - 2), max(1, h // 2 - 2)), 0, 0, 360, 1.0, -1)
        else:
            inner[by + 2 : by + h - 2, bx + 2 : bx + w - 2] = 1.0
        alpha = np.maximum(mask, inner)[:, :, None]
        mixed = region.astype(np.float32) * (1 - alpha) + hidden.astype(np.float32) * alpha
        out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out


# --- red eye -----------------------------------------------------------------------------------------


def eye_regions(rgb: np.ndarray, faces: Sequence[Face], sensitivity: float) -> list[Box]:
    """Where to look for red pupils: around each found eye, the eye band of a face whose eyes weren't
    found, or (no face at all) every eye the cascade finds in the whole image."""
    height, width = rgb.shape[:2]
    regions: list[Box] = []
    for face in faces:
        if face.eyes:
            side = max(6, round(face.w * 0.3))
            regions += [(round(ex - side / 2), round(ey - side / 2), side, side) for ex, ey in face.eyes]
        else:
            band = (face.x + face.w * 0.08, face.y + face.h * 0.18, face.w * 0.84, face.h * 0.4)
            regions.append((round(band[0]), round(band[1]), round(band[2]), round(band[3])))
    if not faces:
        grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        neighbours = max(2, round(8 - 5 * sensitivity))
        smallest = max(8, round(min(height, width) * 0.015))
        found = detection._cascade(detection.HAAR_EYE).detectMultiScale(  # the one cached cascade
            grey, scaleFactor=1.1, minNeighbors=neighbours, minSize=(smallest, smallest)
        )
        regions += [tuple(int(v) for v in box) for box in found]
    clipped = []
    for left, top, w, h in regions:
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(width, left + w), min(height, top + h)
        if x1 - x0 >= 4 and y1 - y0 >= 4:
            clipped.append((x0, y0, x1 - x0, y1 - y0))
    return clipped


def red_mask(region: np.ndarray, sensitivity: float) -> np.ndarray:
    """Pixels of a small RGB region that are pupil-red: strongly red against both green and blue."""
    r, g, b = (region[:, :, i].astype(np.float32) for i in range(3))
    ratio = r / ((g + b) / 2 + 1)
    threshold = 2.0 - 0.9 * sensitivity  # 0.5 -> 1.55; skin sits around 1.2-1.45
    return (r > 70) & (ratio > threshold) & (r - np.maximum(g, b) > 35)


def fix_red_eyes(
    rgb: np.ndarray, regions: Sequence[Box], sensitivity: float, strength: float
) -> tuple[np.ndarray, int]:
    """Desaturates and darkens the red pupil in each region; returns the image and how many were fixed."""
    out = rgb.copy()
    fixed = 0
    for left, top, w, h in regions:
        region = out[top : top + h, left : left + w]
        mask = red_mask(region, sensitivity).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        pupils = []
        for label in range(1, count):
            area = stats[label, cv2.CC_STAT_AREA]
            bw, bh = stats[label, cv2.CC_STAT_WIDTH], stats[label, cv2.CC_STAT_HEIGHT]
            if area < 3 or area > 0.5 * w * h or area < 0.3 * bw * bh:  # specks, skin patches, streaks
                continue
            pupils.append((int(area), label))
        # A region holds one eye (or the two of a face band): the biggest red spots are the pupils,
        # smaller red bits beside them (skin, a lid) are left alone.
        pupils.sort(reverse=True)
        pupils = [(a, label) for a, label in pupils[:2] if a >= 0.3 * pupils[0][0]]
        keep = np.isin(labels, [label for _, label in pupils]).astype(np.uint8)
        fixed += len(pupils)
        if not keep.any():
            continue
        keep = cv2.dilate(keep, np.ones((3, 3), np.uint8))
        alpha = cv2.GaussianBlur(keep.astype(np.float32), (0, 0), 0.8)[:, :, None] * strength
        f = region.astype(np.float32)
        # A pupil is dark: red takes the (low) level of green and blue, all three darkened a little.
        neutral = np.minimum(f[:, :, 1], f[:, :, 2]) * 0.8
        dark = np.stack([neutral, neutral, neutral], axis=-1)
        out[top : top + h, left : left + w] = np.clip(f * (1 - alpha) + dark * alpha + 0.5, 0, 255).astype(np.uint8)
    return out, fixed
