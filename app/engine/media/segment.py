"""Subject masks (U2-Net-p, BiRefNet) and background compositing for the cut-out tools.

    rgb, alpha = segment.load_rgb(ctx.input)                     # 8-bit sRGB, upright, first frame
    found = segment.subject_mask(ctx.input.path, rgb, "u2netp")   # cached by the input's SHA-256
    found.mask                                                    # one uchar band, rgb's size, 255 = subject
    out = segment.compose(rgb, found.mask, segment.solid(rgb.width, rgb.height, (255, 255, 255)))

Masks are cached on disk (DATA_DIR/ai-cache/masks) under the SHA-256 of the uploaded bytes plus the
model id: a second request with the same picture (remove-background/effects, passport-photo/generate,
another background) reuses the mask and runs no model. Only someone holding the same bytes can hit
an entry, so the cache is safe to share between users; it keeps the newest CACHE_ENTRIES masks.

Compositing is libvips (streams, any size); numpy only touches the model-sized copy. numpy is
imported inside functions: the server imports tool modules and must not load it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from app.engine.ai import bundles
from app.engine.media import adjust, vips
from app.engine.tool import InputFile, ToolContext

log = logging.getLogger("lutra.ai")

BUNDLE = "background-removal"
U2NETP = "u2netp"
# ImageNet statistics: what U2-Net and BiRefNet were trained with (rembg's pre-processing).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CACHE_ENTRIES = 256
CACHE_VERSION = "1"  # bump when pre/post-processing changes, so old masks are not reused

# Inferences run by this process, per model id. The /effects answers and the tests read it: a cached
# mask leaves it unchanged.
RUNS: dict[str, int] = {}
_runs_lock = threading.Lock()


@dataclass(frozen=True)
class ModelSpec:
    size: int  # the square input side the model expects when its graph doesn't say
    sigmoid: bool  # the first output is logits (BiRefNet), not probabilities (U2-Net)


def spec_for(model_id: str) -> ModelSpec:
    if model_id.startswith("birefnet"):
        return ModelSpec(1024, sigmoid=True)
    return ModelSpec(320, sigmoid=False)


@dataclass
class MaskResult:
    mask: pyvips.Image  # one uchar band, the picture's size; 255 = subject
    model: str
    cached: bool
    inference_ms: float  # 0 when the mask came from the cache

    def data(self) -> dict[str, Any]:
        return {"model": self.model, "maskCached": self.cached, "inferenceMs": round(self.inference_ms, 1)}


# --- pictures --------------------------------------------------------------------------------------


def load_rgb(source: InputFile, max_side: int | None = None) -> tuple[pyvips.Image, pyvips.Image | None]:
    """(3-band 8-bit sRGB, alpha or None) of an input's first frame, upright, in memory."""
    image = vips.first_page(vips.load(Path(source.path), source.kind, sequential=False))
    if max_side and max(image.width, image.height) > max_side:
        image = image.resize(max_side / max(image.width, image.height))
    colour, alpha = adjust.split_alpha(adjust.to_rgb8(image))
    return colour.copy_memory(), None if alpha is None else alpha.copy_memory()


def to_array(image: pyvips.Image) -> Any:
    """A uchar pyvips image as an H x W x bands numpy array."""
    import numpy as np

    image = image.cast("uchar") if image.format != "uchar" else image
    return np.ndarray(
        buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, image.bands)
    ).copy()


def from_array(array: Any, interpretation: str | None = None) -> pyvips.Image:
    """An H x W (x bands) uint8 numpy array as a pyvips image."""
    import numpy as np

    data = np.ascontiguousarray(array, dtype=np.uint8)
    height, width = data.shape[:2]
    bands = 1 if data.ndim == 2 else data.shape[2]
    image = pyvips.Image.new_from_memory(data.tobytes(), width, height, bands, "uchar")
    if interpretation is None:
        interpretation = "b-w" if bands in (1, 2) else "srgb"
    return image.copy(interpretation=interpretation)


def resize_to(image: pyvips.Image, width: int, height: int, kernel: str = "linear") -> pyvips.Image:
    """Stretches to exactly width x height (masks go from the model's square back to the picture)."""
    if image.width == width and image.height == height:
        return image
    out = image.resize(width / image.width, vscale=height / image.height, kernel=kernel)
    if out.width != width or out.height != height:  # rounding: pad by repeating edges, then cut
        out = out.embed(0, 0, max(width, out.width), max(height, out.height), extend="copy")
        out = out.crop(0, 0, width, height)
    return out


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- models ----------------------------------------------------------------------------------------


def model_file(model_id: str) -> Path:
    """The model's ONNX file, or FeatureNotInstalled (-> 501) while it (or the bundle) is missing."""
    return bundles.model_path(model_id, BUNDLE)


def best_installed(preferred: tuple[str, ...]) -> str:
    """The first of `preferred` that is installed, else the packaged U2-Net-p."""
    for model_id in preferred:
        if bundles.model_present(model_id):
            return model_id
    return U2NETP


def predict(rgb: pyvips.Image, model_id: str) -> pyvips.Image:
    """Runs the model on a 3-band sRGB picture; returns its mask (uchar, the picture's size)."""
    import numpy as np

    from app.engine.media import onnx

    path = model_file(model_id)
    spec = spec_for(model_id)
    session = onnx.session(path)
    feed = session.get_inputs()[0]
    side_h, side_w = _input_side(feed.shape, spec.size)
    small = resize_to(rgb, side_w, side_h, kernel="lanczos3")
    x = to_array(small).astype(np.float32)
    x /= max(float(x.max()), 1e-6)
    x = (x - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    batch = x.transpose(2, 0, 1)[np.newaxis].astype(np.float32)
    out = np.asarray(session.run(None, {feed.name: batch})[0], dtype=np.float32)
    with _runs_lock:
        RUNS[model_id] = RUNS.get(model_id, 0) + 1
    pred = out.reshape(out.shape[-2], out.shape[-1])
    if spec.sigmoid:
        pred = 1.0 / (1.0 + np.exp(-np.clip(pred, -60, 60)))
    low, high = float(pred.min()), float(pred.max())
    pred = (pred - low) / (high - low) if high - low > 1e-6 else np.zeros_like(pred)
    mask = from_array(np.round(pred * 255).astype(np.uint8))
    return resize_to(mask, rgb.width, rgb.height, kernel="linear").copy_memory()


def _input_side(shape: list[Any], default: int) -> tuple[int, int]:
    """(height, width) of an NCHW input; dynamic dimensions (names or None) take the model's default."""
    dims = list(shape)[-2:] if shape is not None and len(shape) == 4 else [None, None]
    return tuple(d if isinstance(d, int) and d > 0 else default for d in dims)  # type: ignore[return-value]


def subject_mask(source_path: Path | str, rgb: pyvips.Image, model_id: str, *, key_extra: str = "") -> MaskResult:
    """The subject mask of a picture, from the cache when this file was segmented with this model before."""
    key = cache_key(file_sha256(source_path), model_id, f"{rgb.width}x{rgb.height}{key_extra}")
    cached = mask_cache().get(key, rgb.width, rgb.height)
    if cached is not None:
        return MaskResult(cached, model_id, True, 0.0)
    model_file(model_id)  # 501 before any work when the model is missing
    started = time.perf_counter()
    mask = predict(rgb, model_id)
    elapsed = (time.perf_counter() - started) * 1000
    mask_cache().put(key, mask)
    return MaskResult(mask, model_id, False, elapsed)


def cut_out(ctx: ToolContext, model_id: str) -> tuple[pyvips.Image, pyvips.Image | None, MaskResult]:
    """The steps every cut-out tool starts with: the input as RGB (+ alpha) and its subject mask."""
    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        rgb, alpha = load_rgb(ctx.input)
    ctx.check_cancelled()
    ctx.progress(15, "Finding the subject")
    found = subject_mask(ctx.input.path, rgb, model_id)
    ctx.check_cancelled()
    return rgb, alpha, found


def save_as(ctx: ToolContext, image: pyvips.Image, format_name: str, tag: str, quality: int = 90) -> Path:
    """Writes a result as png/webp/...: `<stem>_<tag>.<ext>` (quality for lossy formats)."""
    fmt = vips.FORMATS[format_name]
    # Cut-outs are large RGBA PNGs: zlib level 3 writes them about 4x faster than level 6 for ~6% more
    # bytes (150 -> 37 ms at 1024x768), which is most of what an AI cut-out costs beyond the model.
    extra = {"compression": 3} if fmt.name == "png" else {}
    return vips.save(image, vips.output_path(ctx, fmt.ext, tag), fmt, quality if fmt.lossy else None, **extra)


def cache_key(sha256: str, model_id: str, extra: str = "") -> str:
    raw = f"{CACHE_VERSION}:{sha256}:{model_id}:{extra}"
    return hashlib.sha256(raw.encode()).hexdigest()


class MaskCache:
    """Masks as greyscale PNGs in one folder, newest CACHE_ENTRIES kept; safe across worker processes
    (writes go to a temporary name, then an atomic rename)."""

    def __init__(self, root: Path, entries: int = CACHE_ENTRIES) -> None:
        self.root = root
        self.entries = entries

    def path(self, key: str) -> Path:
        return self.root / f"{key}.png"

    def get(self, key: str, width: int, height: int) -> pyvips.Image | None:
        path = self.path(key)
        try:
            mask = pyvips.Image.new_from_file(str(path), access="sequential").copy_memory()
        except (pyvips.Error, OSError):
            return None
        if mask.width != width or mask.height != height or mask.bands != 1:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used entries survive pruning
        return mask

    def put(self, key: str, mask: pyvips.Image) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.root / f".{key}.{uuid.uuid4().hex}.tmp.png"
            mask.write_to_file(str(tmp), compression=1)
            os.replace(tmp, self.path(key))
            self.prune()
        except (pyvips.Error, OSError) as exc:  # a cache that can't write only costs speed
            log.warning("could not cache a mask: %s", exc)

    def prune(self) -> None:
        files = [p for p in self.root.glob("*.png") if not p.name.startswith(".")]
        if len(files) <= self.entries:
            return
        files.sort(key=lambda p: p.stat().st_mtime if p.exists() else 0)
        for stale in files[: len(files) - self.entries]:
            stale.unlink(missing_ok=True)

    def data_get(self, key: str, name: str) -> bytes | None:
        """A side file stored beside a cache entry (e.g. a face analysis as JSON)."""
        try:
            return (self.root / f"{key}.{name}").read_bytes()
        except OSError:
            return None

    def data_put(self, key: str, name: str, data: bytes) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.root / f".{key}.{uuid.uuid4().hex}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, self.root / f"{key}.{name}")
        except OSError as exc:
            log.warning("could not cache analysis data: %s", exc)


def mask_cache() -> MaskCache:
    from app.config import get_settings

    return MaskCache(get_settings().data_dir / "ai-cache" / "masks")


# --- compositing -----------------------------------------------------------------------------------


def solid(width: int, height: int, colour: tuple[float, ...] | list[float]) -> pyvips.Image:
    return (pyvips.Image.black(width, height, bands=3) + list(colour)[:3]).cast("uchar").copy(interpretation="srgb")


def gradient(width: int, height: int, first: list[float], second: list[float], angle: float) -> pyvips.Image:
    """A linear gradient from `first` to `second`; angle in degrees, 0 = left to right, 90 = top to bottom."""
    import math

    xyz = pyvips.Image.xyz(width, height).cast("float")
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    # Project every pixel onto the direction; the frame's extreme corners map to 0 and 1.
    corners = [x * dx + y * dy for x in (0, width - 1) for y in (0, height - 1)]
    low, high = min(corners), max(corners)
    t = (xyz[0] * dx + xyz[1] * dy - low) / max(high - low, 1e-6)
    colour = [t * (b - a) + a for a, b in zip(first[:3], second[:3], strict=True)]
    return adjust.to_uchar(colour[0].bandjoin(colour[1:])).copy(interpretation="srgb")


def cover(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Scales and centre-crops a picture to fill width x height (a new background)."""
    colour, _ = adjust.split_alpha(adjust.to_rgb8(image))
    k = max(width / colour.width, height / colour.height)
    scaled = colour.resize(k) if abs(k - 1) > 1e-9 else colour
    scaled = resize_to(scaled, max(width, scaled.width), max(height, scaled.height))
    left, top = (scaled.width - width) // 2, (scaled.height - height) // 2
    return scaled.crop(left, top, width, height)


def blur_sigma(intensity: float, width: int, height: int) -> float:
    """A blur strength 1-100 as a Gaussian sigma scaled to the picture (100 = 5% of its long side)."""
    return max(0.5, intensity / 100 * 0.05 * max(width, height))


def blur(image: pyvips.Image, sigma: float) -> pyvips.Image:
    """Gaussian blur; large sigmas blur a shrunk copy and scale back up (same look, far faster)."""
    if sigma < 0.3:
        return image
    if sigma <= 12:
        return image.gaussblur(sigma)
    k = 8 / sigma
    small = image.resize(k, kernel="linear") if min(image.width, image.height) * k >= 4 else image
    blurred = small.gaussblur(sigma * small.width / image.width)
    return resize_to(blurred, image.width, image.height, kernel="linear")


def blurred_background(rgb: pyvips.Image, mask: pyvips.Image, sigma: float) -> pyvips.Image:
    """The picture's own background blurred, with the subject's colours kept out of the blur (a
    mask-weighted blur), so no halo of the subject bleeds into it."""
    weight = 1 - mask.cast("float") / 255
    num = blur(rgb.cast("float") * weight, sigma)
    den = blur(weight, sigma)
    fill = blur(rgb.cast("float"), sigma)  # where no background is near (inside a big subject)
    safe = (den > 0.02).ifthenelse(num / (den + 1e-6), fill)
    return adjust.to_uchar(adjust.clamp(safe, 0, 255)).copy(interpretation="srgb")


def subject_colours(rgb: pyvips.Image, mask: pyvips.Image) -> pyvips.Image:
    """The subject's own colours where the mask is soft: each edge pixel I = a*F + (1-a)*B solved for F,
    with B, the old background there, taken from the nearby pure background."""
    a = mask.cast("float") / 255
    pure = (mask <= 20).ifthenelse(1.0, 0.0)
    sigma = max(2.0, 0.01 * max(rgb.width, rgb.height))
    colour = rgb.cast("float")
    num, den = blur(colour * pure, sigma), blur(pure, sigma)
    behind = (den > 0.02).ifthenelse(num / (den + 1e-6), colour)
    solved = (colour - behind * (1 - a)) / (a < 0.05).ifthenelse(0.05, a)
    edge = (mask > 5) & (mask < 250)
    out = edge.bandjoin([edge, edge]).ifthenelse(adjust.clamp(solved, 0, 255), colour)
    return adjust.to_uchar(out).copy(interpretation="srgb")


def feather(mask: pyvips.Image, px: float) -> pyvips.Image:
    """Softens a mask's edge by about `px` pixels."""
    if px <= 0:
        return mask
    return mask.gaussblur(max(0.3, px / 2)).cast("uchar")


def shadow(mask: pyvips.Image, opacity: float) -> pyvips.Image:
    """A soft drop shadow (one band, 0-255) cast by the subject down and to the right."""
    side = min(mask.width, mask.height)
    offset = max(1, round(side * 0.02))
    moved = mask.embed(offset, offset, mask.width, mask.height, extend="black")
    return (blur(moved, max(1.0, side * 0.015)).cast("float") * opacity).cast("uchar")


def layer(colour: pyvips.Image, alpha: pyvips.Image) -> pyvips.Image:
    return colour.bandjoin(alpha.cast("uchar")).copy(interpretation="srgb")


def compose(
    rgb: pyvips.Image,
    mask: pyvips.Image,
    background: pyvips.Image | None,
    *,
    shadow_opacity: float = 0.0,
    alpha: pyvips.Image | None = None,
    decontaminate: bool = True,
) -> pyvips.Image:
    """The subject over `background` (None: transparent), with an optional drop shadow between them.

    `alpha` is the input's own transparency, which limits the subject further. `decontaminate` takes
    the old background's colour out of the subject's soft edge (no light or dark rim on the new
    background). Returns RGBA for a transparent background, RGB otherwise."""
    if alpha is not None:
        mask = (mask.cast("float") * alpha.cast("float") / 255).cast("uchar")
    if decontaminate:
        rgb = subject_colours(rgb, mask)
    layers = []
    if background is not None:
        layers.append(layer(background, pyvips.Image.black(rgb.width, rgb.height) + 255))
    if shadow_opacity > 0:
        black = pyvips.Image.black(rgb.width, rgb.height, bands=3).copy(interpretation="srgb")
        layers.append(layer(black, shadow(mask, shadow_opacity)))
    layers.append(layer(rgb, mask))
    if len(layers) == 1:
        return layers[0]
    out = layers[0].composite(layers[1:], ["over"] * (len(layers) - 1))
    out = adjust.to_uchar(adjust.clamp(out, 0, 255)) if out.format != "uchar" else out
    out = out.copy(interpretation="srgb")
    if background is not None:
        out = out.extract_band(0, n=3)
    return out
