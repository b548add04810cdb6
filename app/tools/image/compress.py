"""Compress: re-encode smaller, at a given quality or under a target file size."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from typing import Any, Literal

import pyvips
from pydantic import Field, model_validator

from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

KB = 1000  # decimal kilobytes: a result under N*1000 bytes is also under N KiB, so both readings hold
_Q_FLOOR = 10  # below this lossy images fall apart; a smaller picture at a sane quality looks better
_Q_CEILING = 95  # above this lossy encoders grow fast for no visible gain
_MIN_SIDE = 16  # stop downscaling here: the target can't be reached
_MAX_ROUNDS = 8
_SLOW = ("avif", "heic", "heif", "png")
_PROXY_PIXELS = 500_000
_CONFIRM_STEPS = 4
_KEEP_KINDS = {"jpeg": "jpeg", "webp": "webp", "avif": "avif", "heif": "heic", "png": "png", "gif": "gif"}


class CompressSettings(ToolSettings):
    mode: Literal["quality", "targetSize"] = Field(
        "quality", description="quality: encode at `quality`; targetSize: the best quality under `targetSizeKb`"
    )
    quality: int = Field(
        vips.DEFAULT_QUALITY,
        ge=1,
        le=100,
        description="Encoding quality (quality mode); in targetSize mode, when given, the highest quality tried",
    )
    targetSizeKb: float | None = Field(
        None, gt=0, le=1_000_000, description="Target size in kilobytes (1 KB = 1000 bytes); needed for targetSize"
    )

    @model_validator(mode="after")
    def _target_needs_size(self) -> CompressSettings:
        if self.mode == "targetSize" and self.targetSizeKb is None:
            raise ValueError("targetSizeKb is required when mode is targetSize")
        return self


def _format_for(kind: str, has_alpha: bool) -> vips.Format:
    """Keep formats that compress; lossless-only or uncompressed ones (TIFF, BMP, ...) go lossy."""
    if kind in _KEEP_KINDS:
        return vips.FORMATS[_KEEP_KINDS[kind]]
    return vips.FORMATS["webp" if has_alpha else "jpeg"]


def _png_options(quality: int) -> dict[str, Any]:
    # Palette quantisation (libimagequant) is where PNG size goes down; 100 means stay lossless.
    if quality >= 100:
        return {"compression": 9}
    return {"compression": 9, "palette": True, "Q": quality, "effort": 7}


def _gif_options(quality: int) -> dict[str, Any]:
    # Fewer colours and more frame reuse as quality drops.
    bitdepth = max(1, min(8, round(quality / 100 * 8)))
    return {"effort": 10, "bitdepth": bitdepth, "interframe_maxerror": (100 - quality) / 4}


def _encode(image: pyvips.Image, fmt: vips.Format, quality: int, **extra: Any) -> bytes:
    if fmt.name == "png":
        return vips.encode(image, fmt, **{**_png_options(quality), **extra})
    if fmt.name == "gif":
        return vips.encode(image, fmt, **{**_gif_options(quality), **extra})
    return vips.encode(image, fmt, quality, **extra)


def _best_under(encode: Callable[[int], bytes], low: int, high: int, target: int) -> tuple[bytes, int, bool]:
    """Binary search for the highest quality in [low, high] whose encoding fits; encodings shrink
    (almost always) as quality drops. Returns (bytes, quality, fitted); if nothing fits, the smallest."""
    smallest = encode(low)
    if len(smallest) > target:
        return smallest, low, False
    best, best_q = smallest, low
    while low < high:
        mid = (low + high + 1) // 2
        data = encode(mid)
        if len(data) <= target:
            best, best_q, low = data, mid, mid
        else:
            high = mid - 1
    return best, best_q, True


def _full_search(
    image: pyvips.Image, fmt: vips.Format, ceiling: int, target: int, **extra: Any
) -> tuple[bytes, int, bool]:
    if fmt.name == "png":
        lossless = _encode(image, fmt, 100)
        if len(lossless) <= target:
            return lossless, 100, True
        return _best_under(lambda q: _encode(image, fmt, q, **extra), 1, 99, target)
    if fmt.name == "gif":
        return _best_under(lambda q: _encode(image, fmt, q, **extra), 13, 100, target)
    return _best_under(lambda q: _encode(image, fmt, q, **extra), min(_Q_FLOOR, ceiling), ceiling, target)


def _search(image: pyvips.Image, fmt: vips.Format, ceiling: int, target: int) -> tuple[bytes, int, bool]:
    """The best quality under `target`. Slow encoders (AVIF/HEIC, PNG quantisation) on large images
    search on a small proxy first (size scales roughly with pixel count), then confirm on the full
    image with a few steps down, so a 12-megapixel AVIF costs a handful of full encodes, not eight."""
    pixels = image.width * image.height
    if fmt.name not in _SLOW or pixels <= _PROXY_PIXELS:
        return _full_search(image, fmt, ceiling, target)
    proxy = vips.scale(image, math.sqrt(_PROXY_PIXELS / pixels)).copy_memory()
    ratio = proxy.width * proxy.height / pixels
    # The proxy is encoded at the lowest effort: files come out a little larger than the real
    # encode's, so the estimate errs towards fitting and the full image rarely needs a second try.
    fast = {"effort": 0} if fmt.name != "png" else {"effort": 1}
    _, quality, _ = _full_search(proxy, fmt, ceiling, max(1, int(target * ratio)), **fast)
    floor = 1 if fmt.name == "png" else min(_Q_FLOOR, ceiling)
    encoded = b""
    for _ in range(_CONFIRM_STEPS):
        encoded = _encode(image, fmt, quality)
        if len(encoded) <= target:
            return encoded, quality, True
        if quality <= floor:
            break
        quality = max(floor, int(quality * 0.75))
    return encoded, quality, False


@tool(
    id="compress",
    section="image",
    title="Compress",
    description="Make an image file smaller: at a chosen quality, or under a target size in KB.",
    settings=CompressSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff", "bmp"),
)
def run(ctx: ToolContext, settings: CompressSettings) -> ToolResult:
    source = ctx.input
    ctx.progress(5, "Compressing")
    with vips.vips_errors():
        head = pyvips.Image.new_from_file(str(source.path))
        fmt = _format_for(source.kind, head.hasalpha())
        same_format = _KEEP_KINDS.get(source.kind) == fmt.name
        out = vips.output_path(ctx, fmt.ext, "compressed")
        data: dict[str, Any] = {"mode": settings.mode, "format": fmt.name}

        if settings.mode == "quality":
            image = vips.prepare_for(vips.load(source.path, source.kind, all_pages=fmt.animated), fmt)
            encoded = _encode(image, fmt, settings.quality)
            if same_format and len(encoded) >= source.size:
                # Re-encoding made it bigger (an already tight file): the original is the better answer.
                shutil.copyfile(source.path, out)
                data.update(quality=settings.quality, keptOriginal=True)
            else:
                out.write_bytes(encoded)
                data.update(quality=settings.quality, keptOriginal=False)
            ctx.progress(100, "Done")
            return ToolResult([out], data)

        assert settings.targetSizeKb is not None
        target = int(settings.targetSizeKb * KB)
        data["targetSizeKb"] = settings.targetSizeKb
        if same_format and source.size <= target:
            shutil.copyfile(source.path, out)
            data.update(targetReached=True, keptOriginal=True, achievedSizeKb=round(source.size / KB, 1))
            ctx.progress(100, "Done")
            return ToolResult([out], data)

        ceiling = settings.quality if "quality" in settings.model_fields_set else _Q_CEILING
        # Decode once into memory: the search encodes the same pixels many times.
        image = vips.prepare_for(vips.load(source.path, source.kind, all_pages=fmt.animated), fmt).copy_memory()
        best: bytes | None = None
        best_q, reached, factor = ceiling, False, 1.0
        for round_no in range(_MAX_ROUNDS):
            ctx.check_cancelled()
            ctx.progress(10 + 80 * round_no / _MAX_ROUNDS, "Searching for the best quality under the target")
            encoded, quality, reached = _search(image, fmt, ceiling, target)
            if best is None or len(encoded) < len(best):
                best, best_q = encoded, quality
            if reached:
                best, best_q = encoded, quality
                break
            # Still too big at the lowest quality: shrink the picture by about the missing ratio.
            step = max(0.1, min(0.9, math.sqrt(target / len(encoded)) * 0.95))
            if min(image.width, vips.page_height(image)) * step < _MIN_SIDE:
                break
            image = vips.scale(image, step).copy_memory()
            factor *= step
        assert best is not None
        out.write_bytes(best)
        data.update(
            quality=best_q,
            targetReached=reached,
            keptOriginal=False,
            achievedSizeKb=round(len(best) / KB, 1),
            downscaled=factor < 1.0,
        )
        if factor < 1.0:
            data.update(width=image.width, height=vips.page_height(image))
    ctx.progress(100, "Done")
    return ToolResult([out], data)
