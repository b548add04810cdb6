"""Seam carving (content-aware resize) on numpy arrays, for content-aware-resize.

A vertical seam is a path of one pixel per row, each within one column of the next, through the
lowest total energy; removing it narrows the picture by one column while leaving the detailed parts
alone, and duplicating the seams an enlargement would remove widens it. Heights are done on the
transposed picture.

Speed, with no compiled code:
- the cumulative-energy pass is vectorised per row (numpy over the whole row at once);
- each pass backtracks several seams at once from the lowest bottom cells; seams that meet another
  are dropped, so the ones removed together never share a pixel;
- a picture larger than WORK_SIDE pixels finds its seams on a copy shrunk by a whole factor r, where
  each cell stands for an r x r block; removing a seam there removes r full-resolution columns, and
  the last few columns (fewer than r) are carved at full resolution.

numpy and OpenCV are imported here at module level: only tools' run functions import this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIDE = 900  # the longest side seams are searched on; bigger pictures use blocks
PROTECT_ENERGY = 1e5  # added over protected regions: seams avoid them unless there is no other way
# At most width / this many seams are removed per energy map: more is faster, fewer follows the changing
# picture more closely.
SEAMS_PER_PASS_DIVISOR = 16

Progress = Callable[[float], None]


@dataclass(frozen=True)
class EnergyOptions:
    blur_radius: float = 4.0  # Gaussian pre-blur (pixels) before the Sobel filter
    sobel_threshold: float = 2.0  # gradient magnitudes (0-255 scale) below this count as flat


def energy_map(
    picture: np.ndarray, options: EnergyOptions, protect: np.ndarray | None, scale: float = 1.0
) -> np.ndarray:
    """Sobel gradient magnitude of the luma (0-255 scale; an alpha band's edges count too), after an
    optional blur and threshold, plus a tiny fixed jitter so equal costs don't all pile up at the left."""
    grey = cv2.cvtColor(np.ascontiguousarray(picture[:, :, :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    energy = _gradient(grey, options.blur_radius / scale)
    if picture.ndim == 3 and picture.shape[2] == 4:
        energy = np.maximum(energy, _gradient(picture[:, :, 3].astype(np.float32), options.blur_radius / scale))
    if options.sobel_threshold > 0:
        energy[energy < options.sobel_threshold] = 0
    energy = energy.astype(np.float64)
    energy += _jitter(energy.shape)
    if protect is not None:
        energy[protect] += PROTECT_ENERGY
    return energy


def _gradient(grey: np.ndarray, radius: float) -> np.ndarray:
    if radius >= 0.5:
        grey = cv2.GaussianBlur(grey, (0, 0), radius / 2)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy) / 4.0  # a full black-to-white step gives 255


def _jitter(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(7).random(shape) * 1e-3


def cumulative(energy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The seam DP, one vector operation per row: M[i, j] = energy[i, j] + the least of the three
    cells above, and which of them it was (-1, 0, +1; straight up on ties)."""
    height, width = energy.shape
    total = energy.copy()
    steps = np.zeros((height, width), dtype=np.int8)
    padded = np.full(width + 2, np.inf)
    best = np.empty(width)
    for i in range(1, height):
        padded[1:-1] = total[i - 1]
        left, up, right = padded[:-2], padded[1:-1], padded[2:]
        np.minimum(left, up, out=best)
        np.minimum(best, right, out=best)
        total[i] += best
        not_up = up != best
        steps[i] = not_up * (1 - 2 * (left == best))  # 0 if up is best, else -1 (left) or +1 (right)
    return total, steps


def lowest_seams(total: np.ndarray, steps: np.ndarray, k: int) -> np.ndarray:
    """Up to k disjoint seams (H x n column indices), cheapest first.

    Following the DP's steps up from every bottom cell gives each cell's seam; two seams that meet
    run together from there up, so seams are disjoint exactly when they end in different top cells.
    Of each group ending in the same top cell only the cheapest is a candidate."""
    height, width = total.shape
    top = np.arange(width)
    for i in range(height - 1, 0, -1):
        top = top + steps[i, top]
    order = np.argsort(total[-1], kind="stable")
    order = order[np.isfinite(total[-1][order])]
    if order.size == 0:
        order = np.argsort(total[-1], kind="stable")[:1]
    _, first = np.unique(top[order], return_index=True)
    chosen = order[np.sort(first)][: max(1, k)]
    seams = np.empty((height, chosen.size), dtype=np.intp)
    position = chosen.astype(np.intp)
    seams[-1] = position
    for i in range(height - 1, 0, -1):
        position = position + steps[i, position]
        seams[i - 1] = position
    return seams


def find_seams(
    rgb: np.ndarray,
    n: int,
    options: EnergyOptions,
    protect: np.ndarray | None,
    scale: float = 1.0,
    blocked: np.ndarray | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """A bool H x W mask with exactly n cells per row: the n seams a width reduction of n removes."""
    height, width = rgb.shape[:2]
    work = rgb
    columns = np.tile(np.arange(width, dtype=np.int32), (height, 1))  # original column of each cell
    guard = None if protect is None else protect.copy()
    found = 0
    while found < n:
        energy = energy_map(work, options, guard, scale)
        if blocked is not None:
            energy[blocked[np.arange(height)[:, None], columns]] = np.inf
        total, steps = cumulative(energy)
        remaining = n - found
        seams = lowest_seams(total, steps, min(remaining, max(1, work.shape[1] // SEAMS_PER_PASS_DIVISOR)))
        keep = np.ones(work.shape[:2], dtype=bool)
        keep[np.arange(height)[:, None], seams] = False
        count = work.shape[1] - seams.shape[1]
        work = work[keep].reshape(height, count, *work.shape[2:])
        columns = columns[keep].reshape(height, count)
        if guard is not None:
            guard = guard[keep].reshape(height, count)
        found += seams.shape[1]
        if progress is not None:
            progress(found / n)
    chosen = np.ones((height, width), dtype=bool)
    chosen[np.arange(height)[:, None], columns] = False
    return chosen


def _block_factor(height: int, width: int, n: int) -> int:
    side = max(height, width)
    if side <= WORK_SIDE or n < 2:
        return 1
    return max(1, min(math.ceil(side / WORK_SIDE), n))


def carve_width(
    image: np.ndarray,
    target: int,
    options: EnergyOptions,
    protect: np.ndarray | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Narrows or widens an H x W (x C) uint8 picture to `target` columns along low-energy seams; the
    protected cells (H x W bool) move with it."""
    width = image.shape[1]
    if target == width:
        return image, protect
    if target > width:
        return _widen(image, target, options, protect, progress)
    n = width - target
    r = _block_factor(image.shape[0], width, n)
    if r > 1:
        blocks = n // r
        small, small_protect = _shrunk(image, protect, r)
        # The last block column may be narrower than r: never remove it, so every row loses r * blocks.
        blocked = np.zeros(small.shape[:2], dtype=bool)
        if width % r:
            blocked[:, -1] = True
        chosen = find_seams(small, blocks, options, small_protect, r, blocked, _part(progress, 0.0, 0.9))
        removed = np.repeat(np.repeat(chosen, r, axis=0), r, axis=1)[: image.shape[0], :width]
        image, protect = _remove(image, removed), None if protect is None else _remove(protect, removed)
        progress = _part(progress, 0.9, 1.0)
    n = image.shape[1] - target
    if n > 0:
        chosen = find_seams(image, n, options, protect, progress=progress)
        image, protect = _remove(image, chosen), None if protect is None else _remove(protect, chosen)
    return image, protect


def _widen(
    image: np.ndarray, target: int, options: EnergyOptions, protect: np.ndarray | None, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Duplicates the seams a reduction would remove, in rounds of at most half the width."""
    while image.shape[1] < target:
        width = image.shape[1]
        n = min(target - width, max(1, width // 2))
        r = _block_factor(image.shape[0], width, n)
        if r > 1 and n >= r:
            small, small_protect = _shrunk(image, protect, r)
            blocked = np.zeros(small.shape[:2], dtype=bool)
            if width % r:
                blocked[:, -1] = True
            chosen = find_seams(small, n // r, options, small_protect, r, blocked)
            chosen = np.repeat(np.repeat(chosen, r, axis=0), r, axis=1)[: image.shape[0], :width]
        else:
            chosen = find_seams(image, n, options, protect)
        image = _insert(image, chosen)
        if protect is not None:
            protect = _insert(protect.astype(np.uint8) * 255, chosen) > 127
        if progress is not None:
            progress(min(1.0, image.shape[1] / target))
    return image, protect


def _shrunk(image: np.ndarray, protect: np.ndarray | None, r: int) -> tuple[np.ndarray, np.ndarray | None]:
    height, width = image.shape[:2]
    size = (math.ceil(width / r), math.ceil(height / r))
    small = cv2.resize(np.ascontiguousarray(image[:, :, :3]), size, interpolation=cv2.INTER_AREA)
    small_protect = None
    if protect is not None:
        small_protect = cv2.resize(protect.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 0
    return small, small_protect


def _remove(image: np.ndarray, removed: np.ndarray) -> np.ndarray:
    height, width = removed.shape
    count = width - int(removed[0].sum())
    return image[~removed].reshape(height, count, *image.shape[2:])


def _insert(image: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """After every chosen cell, a new one: the mean of it and its right neighbour."""
    height, width = chosen.shape
    added = int(chosen[0].sum())
    right = np.concatenate([image[:, 1:], image[:, -1:]], axis=1)
    between = ((image.astype(np.uint16) + right) // 2).astype(image.dtype)
    out = np.empty((height, width + added, *image.shape[2:]), dtype=image.dtype)
    # Position of every original cell in the output: shifted right by the insertions before it.
    shift = np.cumsum(chosen, axis=1) - chosen
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :] + shift
    out[rows, cols] = image
    ys, xs = np.nonzero(chosen)
    out[ys, xs + shift[ys, xs] + 1] = between[ys, xs]
    return out


def _part(progress: Progress | None, start: float, end: float) -> Progress | None:
    if progress is None:
        return None
    return lambda f: progress(start + (end - start) * f)


def carve(
    image: np.ndarray,
    width: int,
    height: int,
    options: EnergyOptions,
    protect: np.ndarray | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """Content-aware resize to width x height: columns first, then rows (on the transposed picture)."""
    dw, dh = abs(width - image.shape[1]), abs(height - image.shape[0])
    share = dw / max(1, dw + dh)
    image, protect = carve_width(image, width, options, protect, _part(progress, 0.0, share))
    if height != image.shape[0]:
        turned = np.ascontiguousarray(np.swapaxes(image, 0, 1))
        turned_protect = None if protect is None else np.ascontiguousarray(protect.T)
        turned, _ = carve_width(turned, height, options, turned_protect, _part(progress, share, 1.0))
        image = np.ascontiguousarray(np.swapaxes(turned, 0, 1))
    return image
