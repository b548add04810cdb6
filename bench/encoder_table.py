"""Encoder speed table: time and size of each lossy encoder at each speed setting, on photos and a clip.

Run by hand (never in CI):  .venv/bin/python bench/encoder_table.py [--megapixels 12] [--seconds 3] [--runs 1]
                            [--only avif,heic,jxl,webp,jpeg,x264,x265,vp9,av1]

The defaults Lutra's encoders use (app/engine/media/vips.py EFFORT, app/engine/media/ffmpeg.py SPEEDS)
were chosen from this table: the fastest setting whose file is within a few percent of the slow ones.

Inputs, made on the spot (nothing downloaded):
  * three photo-like pictures of `--megapixels` each: the test portrait (tests/ai/pictures) enlarged
    with sensor grain added; a landscape (sky gradient over a fractal terrain, grain); a fractal
    foliage texture. Enlarged pictures alone are too smooth to stand for photos: the grain and fractal
    detail give the encoders the high-frequency content a camera file has.
  * a `--seconds` 1080p30 clip: testsrc2 blended with a moving mandelbrot zoom plus temporal noise.
Each row is the median wall time of `--runs` encodes and the output size; sizes are compared at equal
quality settings (q50 for AVIF/HEIC/JXL-distance-equivalent, q75 for WebP/JPEG, the CRF Lutra uses
for "balanced" video).
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pyvips

ROOT = Path(__file__).resolve().parent.parent
PORTRAIT = ROOT / "tests" / "ai" / "pictures" / "portrait.jpg"

IMAGE_SETTINGS: dict[str, tuple[str, list[int], dict]] = {
    # name: (saver suffix, efforts, fixed options)
    "avif": (".avif", [0, 1, 2, 3, 4], {"Q": 50, "compression": "av1"}),
    "heic": (".heic", [0, 9], {"Q": 50, "compression": "hevc"}),
    "jxl": (".jxl", [3, 4, 5, 7], {"Q": 75}),
    "webp": (".webp", [0, 2, 4, 6], {"Q": 75}),
    "jpeg": (".jpg", [0], {"Q": 75, "optimize_coding": True}),
}

# name: (codec args before the speed, [(label, speed args)], CRF) — CRFs are Lutra's "balanced" ones.
VIDEO_SETTINGS: dict[str, tuple[list[str], list[tuple[str, list[str]]]]] = {
    "x264": (
        ["-c:v", "libx264", "-crf", "23"],
        [(p, ["-preset", p]) for p in ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")],
    ),
    "x265": (
        ["-c:v", "libx265", "-crf", "28", "-x265-params", "log-level=error"],
        [(p, ["-preset", p]) for p in ("ultrafast", "superfast", "veryfast", "fast", "medium")],
    ),
    "vp9": (
        ["-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-row-mt", "1", "-deadline", "good"],
        [(f"cpu-used {c}", ["-cpu-used", str(c)]) for c in (8, 6, 5, 4, 2)],
    ),
    "av1": (
        ["-c:v", "libsvtav1", "-crf", "35"],
        [(f"svt preset {p}", ["-preset", str(p)]) for p in (12, 10, 8, 6)],
    ),
}


def grain(image: pyvips.Image, sigma: float, seed: int) -> pyvips.Image:
    noise = pyvips.Image.gaussnoise(image.width, image.height, sigma=sigma, seed=seed)
    return (image + noise.bandjoin([noise, noise])).cast("uchar")


def photos(megapixels: float) -> dict[str, pyvips.Image]:
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    portrait = pyvips.Image.new_from_file(str(PORTRAIT)).resize(width / 256, kernel="lanczos3")
    portrait = portrait.crop(0, (portrait.height - height) // 2, width, height)
    # Fractal surfaces: natural-looking detail at every scale (terrain, leaves).
    terrain = pyvips.Image.fractsurf(width, height // 2, 2.4).gaussblur(1.2)
    terrain = (terrain - terrain.min()) * (255 / (terrain.max() - terrain.min()))
    ground = terrain.bandjoin([terrain * 0.8 + 20, terrain * 0.45]).cast("uchar")
    sky_row = pyvips.Image.xyz(1, height - height // 2)[1] * (120 / height)
    sky = (sky_row + [90, 140, 200]).cast("uchar").resize(width, vscale=1, kernel="nearest")
    landscape = sky.join(ground, "vertical").copy(interpretation="srgb")
    leaves = pyvips.Image.fractsurf(width, height, 2.7)
    leaves = (leaves - leaves.min()) * (255 / (leaves.max() - leaves.min()))
    foliage = (leaves * 0.5).bandjoin([leaves * 0.9, leaves * 0.3]).cast("uchar").copy(interpretation="srgb")
    return {
        "portrait": grain(portrait, 3.0, 1).copy_memory(),
        "landscape": grain(landscape, 4.0, 2).copy_memory(),
        "foliage": grain(foliage, 2.0, 3).copy_memory(),
    }


def make_clip(path: Path, seconds: float) -> None:
    graph = (
        f"testsrc2=s=1920x1080:r=30:d={seconds}[a];mandelbrot=s=1920x1080:r=30[b];"
        "[a][b]blend=all_mode=average:shortest=1,noise=alls=12:allf=t+u,format=yuv420p"
    )
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-filter_complex", graph, "-t", str(seconds)]
        + ["-c:v", "libx264", "-crf", "12", "-preset", "veryfast", str(path)],
        check=True,
    )


def psnr(original: pyvips.Image, data: bytes) -> float:
    """Peak signal-to-noise ratio of a decoded encoding against the original, in dB (higher is closer)."""
    decoded = pyvips.Image.new_from_buffer(data, "")[0:3].cast("float")
    mse = ((decoded - original.cast("float")) ** 2).avg()
    return 10 * math.log10(255**2 / max(mse, 1e-9))


def cpu_seconds() -> float:
    """CPU time of this process (all libvips threads) and of its finished children (ffmpeg)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], int], runs: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of `runs` calls, and the size the last one returned."""
    walls, cpus, size = [], [], 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), cpu_seconds()
        size = fn()
        cpus.append(cpu_seconds() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus), size


def encode_image(image: pyvips.Image, suffix: str, options: dict, keep: list[bytes]) -> int:
    keep[:] = [image.write_to_buffer(suffix, **options)]
    return len(keep[0])


def encode_clip(clip: Path, args: list[str], out: Path) -> int:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(clip), "-an", *args, str(out)], check=True)
    return out.stat().st_size


def image_rows(images: dict[str, pyvips.Image], only: set[str], runs: int) -> None:
    head = " ".join(f"{name + ' s':>12} {'cpu s':>6} {'KB':>6} {'dB':>5}" for name in images)
    print(f"{'encoder':8} {'effort':>6} {head}")
    for name, (suffix, efforts, options) in IMAGE_SETTINGS.items():
        if name not in only:
            continue
        for effort in efforts:
            cells = []
            for image in images.values():
                extra = {} if name == "jpeg" else {"effort": effort}
                encoded: list[bytes] = []
                wall, cpu, size = timed(partial(encode_image, image, suffix, {**options, **extra}, encoded), runs)
                cells.append(f"{wall:12.2f} {cpu:6.2f} {size / 1000:6.0f} {psnr(image, encoded[0]):5.1f}")
            label = "-" if name == "jpeg" else str(effort)
            print(f"{name:8} {label:>6} " + " ".join(cells), flush=True)


def video_rows(clip: Path, seconds: float, only: set[str], runs: int, out_dir: Path) -> None:
    print(f"\n{'encoder':8} {'speed':>16} {'s':>8} {'cpu s':>8} {'KB':>10}")
    for name, (base, speeds) in VIDEO_SETTINGS.items():
        if name not in only:
            continue
        for label, speed in speeds:
            wall, cpu, size = timed(partial(encode_clip, clip, [*base, *speed], out_dir / f"{name}.mkv"), runs)
            print(f"{name:8} {label:>16} {wall:8.2f} {cpu:8.2f} {size / 1000:10.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", default=",".join([*IMAGE_SETTINGS, *VIDEO_SETTINGS]))
    args = parser.parse_args()
    only = set(args.only.split(","))
    print(f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}, {args.megapixels} MP photos")
    if only & set(IMAGE_SETTINGS):
        image_rows(photos(args.megapixels), only, args.runs)
    if only & set(VIDEO_SETTINGS):
        with tempfile.TemporaryDirectory() as tmp:
            clip = Path(tmp) / "clip.mkv"
            make_clip(clip, args.seconds)
            video_rows(clip, args.seconds, only, args.runs, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
