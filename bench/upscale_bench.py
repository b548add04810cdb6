"""Upscale tiers: x2 of a 256x192 picture with each packaged Real-ESRGAN network and tile size (bare engine).

Run by hand (never in CI):  .venv/bin/python bench/upscale_bench.py [--runs 3] [--tiles 64,96,128,192]

The picture is the test portrait (tests/ai/pictures) cut to 256x192. For each network and tile size it
prints the median wall and CPU seconds of `--runs` upscales after one warm-up run (the network load is
timed apart), the PSNR of an x2 of the picture's half (area filter) against the picture itself next to
bicubic's, and this process's peak resident memory at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyvips

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.engine.media import upscale  # noqa: E402


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * math.log10(255**2 / max(mse, 1e-9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tiles", default="64,96,128,192")
    parser.add_argument("--models", default="realesr-animevideov3,realesrgan-x4plus")
    args = parser.parse_args()
    portrait = pyvips.Image.new_from_file(str(ROOT / "tests/ai/pictures/portrait.jpg"))
    small = portrait.crop(0, 32, 256, 192).numpy()  # the timed input: 256x192 of a real photo
    # Quality: the same crop halved (area filter) and enlarged back, against the crop itself.
    truth_rgb = small
    halved = pyvips.Image.new_from_array(small).copy(interpretation="srgb").resize(0.5, kernel="linear").numpy()
    bicubic = pyvips.Image.new_from_array(halved).copy(interpretation="srgb").resize(2, kernel="cubic").numpy()
    print(f"input {small.shape[1]}x{small.shape[0]}, x2; bicubic from half size {psnr(bicubic, truth_rgb):.2f} dB")
    print(f"{'model':24} {'tile':>5} {'load s':>7} {'wall s':>7} {'cpu s':>7} {'PSNR dB':>8}")
    for model in args.models.split(","):
        for tile in [int(t) for t in args.tiles.split(",")]:
            upscale._loaded.clear()
            native = upscale.network_for(model, 2)
            network = dataclasses.replace(native, tile=tile)
            upscale.NETWORKS[model][native.scale] = network
            started = time.perf_counter()
            upscale._net(network)
            load = time.perf_counter() - started
            upscale.run(small, model, 2)  # warm-up
            walls, cpus = [], []
            for _ in range(args.runs):
                wall, spent = time.perf_counter(), cpu()
                upscale.run(small, model, 2)
                walls.append(time.perf_counter() - wall)
                cpus.append(cpu() - spent)
            back = upscale.run(halved, model, 2)
            if network.scale != 2:
                image = pyvips.Image.new_from_array(back).copy(interpretation="srgb")
                back = image.resize(0.5, kernel="lanczos3").numpy()
            line = f"{model:24} {tile:5d} {load:7.2f} {statistics.median(walls):7.2f} {statistics.median(cpus):7.2f}"
            print(f"{line} {psnr(back, truth_rgb):8.2f}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
