"""Scratch and crease removal for old photos (restore-photo): find thin bright or dark lines with a
morphological top-hat, keep the long thin ones, and inpaint them from their surroundings.

Imports numpy and cv2: only tool run functions import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

Level = Literal["light", "heavy"]


@dataclass(frozen=True)
class Profile:
    kernel: float  # structuring element, in percent of the short side (at least 7 px): wider than a scratch
    threshold: float  # top-hat response (0-255) a pixel needs, at the least
    spread: float  # ... or this many standard deviations above the mean response, if that is more
    thickness: float  # a line is at most twice this wide (px)
    crowd: float  # largest share of a CROWD_WINDOW neighbourhood that candidates may fill
    length: float  # straight run a line must have, in percent of the short side (MIN_SEGMENT-MAX_SEGMENT px)


PROFILES = {
    "light": Profile(kernel=1.2, threshold=30, spread=6.0, thickness=3.0, crowd=0.3, length=15),
    "heavy": Profile(kernel=2.0, threshold=20, spread=4.0, thickness=4.0, crowd=0.4, length=8),
}


MIN_SEGMENT = 12  # px: shorter straight runs are texture, not scratches
MAX_SEGMENT = 45  # px: with ANGLE_STEP, longer segments would miss lines between two sampled angles
ANGLE_STEP = 5  # degrees
WORK_SIDE = 1600  # px: larger images are searched on a copy this large
REGROW = 8  # px a line is grown back through its crossings
CROWD_WINDOW = 31  # px: a 3-5 px wide line fills 10-16 % of such a window, a crossing ~30 %


def _segment(length: int, angle: int) -> np.ndarray:
    """A one-pixel line of `length` through the centre of a square kernel, at `angle` degrees."""
    kernel = np.zeros((length, length), np.uint8)
    half = (length - 1) / 2
    dx, dy = np.cos(np.radians(angle)) * half, np.sin(np.radians(angle)) * half
    cv2.line(kernel, (round(half - dx), round(half - dy)), (round(half + dx), round(half + dy)), 1, 1)
    return kernel


def scratch_mask(rgb: np.ndarray, level: Level = "light") -> np.ndarray:
    """uint8 mask (255 = scratch) of the long, thin, bright or dark lines in an RGB image."""
    height, width = rgb.shape[:2]
    scale = WORK_SIDE / max(height, width)
    if scale >= 1:
        return _mask(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), PROFILES[level])
    # Big scans are searched at WORK_SIDE (a scratch is still a line there) and the mask scaled back.
    small = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    mask = _mask(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), PROFILES[level])
    mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
    return ((mask > 0) * 255).astype(np.uint8)


def _mask(grey: np.ndarray, p: Profile) -> np.ndarray:
    short = min(grey.shape)
    size = max(7, round(short * p.kernel / 100)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    # Top-hat: what is brighter than its opening (thin bright lines); black-hat: darker than its closing.
    response = np.maximum(
        cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel), cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    ).astype(np.float32)
    # Robust spread (median absolute deviation): the scratches themselves must not raise the bar.
    median = float(np.median(response))
    sigma = 1.4826 * float(np.median(np.abs(response - median)))
    candidates = (response > max(p.threshold, median + p.spread * sigma)).astype(np.uint8)
    # A scratch is long and straight for a while: keep what a line segment of `length` fits into at
    # some angle. Curly texture (hair, fabric) and short edges don't hold one. Thickened by a pixel
    # first so a line between two of the sampled angles still holds the segment.
    thick = cv2.dilate(candidates, np.ones((3, 3), np.uint8))
    # A segment fits anywhere in a solid patch, so solid ones go first: blobs (spots, eyes, lettering)
    # and dense texture hold a disc wider than any scratch. Crossing thin lines hold no such disc.
    disc = 2 * round(p.thickness) + 1
    solid = cv2.morphologyEx(candidates, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (disc, disc)))
    # ... and a scratch crosses the picture alone: where candidates crowd (texture), it is not one.
    crowded = cv2.blur(candidates.astype(np.float32), (CROWD_WINDOW, CROWD_WINDOW)) > p.crowd
    thick &= 1 - cv2.dilate(solid | crowded.astype(np.uint8), np.ones((5, 5), np.uint8))
    reach = round(min(MAX_SEGMENT, max(MIN_SEGMENT, short * p.length / 100)))
    lines = np.zeros_like(candidates)
    for angle in range(0, 180, ANGLE_STEP):
        lines |= cv2.morphologyEx(thick, cv2.MORPH_OPEN, _segment(reach, angle))
    mask = lines & candidates
    # Grow the lines back along their own candidates through what was cut out above (where two
    # scratches cross, the crossing is crowded) - a limited number of steps, so blobs stay out.
    for _ in range(REGROW):
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8)) & candidates
    mask *= 255
    # Cover the line's soft edges too, or the inpainting copies them back in.
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))


def remove_scratches(
    rgb: np.ndarray, level: Level = "light", protect: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """The image with its scratches inpainted, and how many pixels were filled. `protect` (a bool
    mask) marks areas left alone, e.g. faces, whose lips and lashes are thin dark lines too."""
    mask = scratch_mask(rgb, level)
    if protect is not None:
        mask[protect] = 0
    filled = int(np.count_nonzero(mask))
    if filled == 0:
        return rgb.copy(), 0
    out = cv2.inpaint(rgb, mask, 4, cv2.INPAINT_TELEA)
    return out, filled
