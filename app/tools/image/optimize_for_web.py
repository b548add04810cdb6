"""Optimize for Web: downscale to a maximum size, re-encode as WebP/JPEG/AVIF/PNG, drop metadata.

/preview answers the optimised image itself with its sizes as headers, for live tuning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pyvips
from pydantic import Field

from app.engine.media import image_meta, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, action, tool

_MAX_SIDE = 16384
_METADATA_PREFIXES = ("exif-", "xmp-data", "iptc-data", "photoshop-data", "orientation")


class OptimizeForWebSettings(ToolSettings):
    format: Literal["webp", "jpeg", "avif", "png"] = Field("webp", description="Output format")
    quality: int = Field(80, ge=1, le=100, description="Encoding quality (1-100); for PNG, palette quality")
    maxWidth: int | None = Field(
        None, ge=1, le=_MAX_SIDE, description="Largest width in pixels; smaller images are never enlarged"
    )
    maxHeight: int | None = Field(
        None, ge=1, le=_MAX_SIDE, description="Largest height in pixels; smaller images are never enlarged"
    )
    progressive: bool = Field(
        True, description="Progressive JPEG / interlaced PNG (WebP and AVIF have no progressive mode)"
    )
    stripMetadata: bool = Field(
        True, description="Remove EXIF, XMP, IPTC and comments; colours are converted to sRGB first"
    )


def _encode_options(s: OptimizeForWebSettings, fast: bool) -> dict[str, Any]:
    if s.format == "jpeg":
        return {"Q": s.quality, "optimize_coding": True, "interlace": s.progressive}
    if s.format == "webp":
        return {"Q": s.quality, "effort": 2 if fast else 4, "smart_subsample": True}
    if s.format == "avif":
        return {"Q": s.quality, "compression": "av1", "effort": 2 if fast else 4}
    # PNG: palette quantisation below quality 100, lossless at 100.
    options: dict[str, Any] = {"compression": 9, "interlace": s.progressive, "effort": 4 if fast else 7}
    if s.quality < 100:
        options.update(palette=True, Q=s.quality)
    return options


def _downscale(path: Path, kind: str, s: OptimizeForWebSettings, animated_out: bool) -> pyvips.Image:
    image = vips.load(path, kind, all_pages=animated_out)  # lazy: only the header is read so far
    width, height = image.width, vips.page_height(image)
    box_w = s.maxWidth or width
    box_h = s.maxHeight or height
    if width <= box_w and height <= box_h:
        return image
    if vips.is_animated(image):
        return vips.scale(image, min(box_w / width, box_h / height))
    # thumbnail shrinks while decoding (JPEG DCT scaling, WebP/AVIF scaled decode): far less work.
    return pyvips.Image.thumbnail(str(path), box_w, height=box_h, size="down", fail_on="truncated")


def _bare(image: pyvips.Image) -> pyvips.Image:
    image = image.copy()
    for name in image.get_fields():
        if name.startswith(_METADATA_PREFIXES) or "comment" in name:
            image.remove(name)
    return image


def optimise(ctx: ToolContext, s: OptimizeForWebSettings, *, fast: bool = False) -> ToolResult:
    source = ctx.input
    fmt = vips.FORMATS[s.format]
    with vips.vips_errors():
        image = _downscale(Path(source.path), source.kind, s, fmt.animated)
        if s.stripMetadata:
            if image.get_typeof("icc-profile-data"):
                # Browsers assume sRGB for untagged images: convert before the profile goes.
                image = image.icc_transform("srgb", embedded=True, intent="perceptual")
            image = _bare(image)
        out = vips.output_path(ctx, fmt.ext, "optimized")
        prepared = vips.prepare_for(image, fmt)
        options = _encode_options(s, fast)
        if s.stripMetadata:
            options["strip"] = True
        prepared.write_to_file(str(out), **options)
        if s.stripMetadata and fmt.name == "webp":
            out.write_bytes(image_meta.strip_webp(out.read_bytes()))
        width, height = prepared.width, vips.page_height(prepared)
    original, optimised = source.size, out.stat().st_size
    savings = round((1 - optimised / original) * 100, 1) if original else 0.0
    return ToolResult(
        [out],
        {
            "originalSize": original,
            "optimizedSize": optimised,
            "savings": savings,
            "format": fmt.name,
            "width": width,
            "height": height,
        },
    )


@tool(
    id="optimize-for-web",
    section="image",
    title="Optimize for Web",
    description="Resize to a maximum size, convert to WebP, JPEG, AVIF or PNG at a chosen quality and "
    "strip metadata: smaller images for web pages.",
    settings=OptimizeForWebSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff", "bmp"),
)
def run(ctx: ToolContext, settings: OptimizeForWebSettings) -> ToolResult:
    ctx.progress(5, "Optimising")
    result = optimise(ctx, settings)
    ctx.progress(100, "Done")
    return result


@action(
    "optimize-for-web",
    "preview",
    summary="Lightweight preview for live tuning: the optimised image, with X-Original-Size, "
    "X-Optimized-Size and X-Savings headers",
    returns="file",
)
def preview(ctx: ToolContext, settings: OptimizeForWebSettings) -> ToolResult:
    # Same pipeline with a lower encoder effort: sizes within a few percent of the final, much sooner.
    return optimise(ctx, settings, fast=True)
