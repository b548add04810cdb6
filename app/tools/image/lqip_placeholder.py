"""LQIP Placeholder: a tiny blurred, pixelated or single-colour stand-in image and its data URI."""

from __future__ import annotations

import base64
import math
from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

MIME = {"webp": "image/webp", "png": "image/png", "jpeg": "image/jpeg"}


class LqipSettings(ToolSettings):
    width: int = Field(16, ge=4, le=64, description="Placeholder width in pixels (height keeps the aspect ratio)")
    blur: float = Field(1.5, ge=0, le=20, description="Gaussian blur sigma in placeholder pixels (strategy blur)")
    strategy: Literal["blur", "pixelate", "solid"] = Field(
        "blur", description="blur: soft thumbnail; pixelate: coarse blocks; solid: the average colour"
    )
    format: Literal["webp", "png", "jpeg"] = Field("webp", description="Placeholder format")
    quality: int = Field(50, ge=1, le=100, description="Quality for WebP and JPEG")


def placeholder(thumb: pyvips.Image, settings: LqipSettings) -> tuple[pyvips.Image, str | None]:
    if settings.strategy == "solid":
        colour = [round(thumb.extract_band(b).avg()) for b in range(3)]
        flat = (pyvips.Image.black(thumb.width, thumb.height, bands=3) + colour).cast("uchar")
        return flat.copy(interpretation="srgb"), draw.to_hex(tuple(colour))
    if settings.strategy == "pixelate":
        # A quarter as many blocks as pixels across, blown back up without smoothing.
        blocks = max(2, thumb.width // 4)
        small = thumb.resize(blocks / thumb.width)
        return small.resize(thumb.width / small.width, vscale=thumb.height / small.height, kernel="nearest"), None
    if settings.blur > 0:
        # Extend the edges before blurring so the border doesn't fade to black.
        margin = math.ceil(settings.blur * 3)
        wide = thumb.embed(margin, margin, thumb.width + 2 * margin, thumb.height + 2 * margin, extend="copy")
        thumb = wide.gaussblur(settings.blur).crop(margin, margin, thumb.width, thumb.height)
    return thumb, None


@tool(
    id="lqip-placeholder",
    section="image",
    title="LQIP Placeholder",
    description="A tiny low-quality image placeholder (blur, pixelate or solid colour) with its data URI.",
    settings=LqipSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: LqipSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.FORMATS[settings.format]
    with vips.vips_errors():
        thumb = pyvips.Image.thumbnail(str(source.path), settings.width, fail_on="truncated")
        thumb = draw.flatten(thumb).copy_memory()
        image, colour = placeholder(thumb, settings)
        image = vips.prepare_for(image.cast("uchar").copy(interpretation="srgb"), fmt).copy_memory()
        encoded = vips.encode(image, fmt, settings.quality, strip=True)
    out = vips.output_path(ctx, fmt.ext, "lqip")
    out.write_bytes(encoded)
    data_uri = f"data:{MIME[settings.format]};base64,{base64.b64encode(encoded).decode('ascii')}"
    data = {
        "dataUri": data_uri,
        "width": image.width,
        "height": image.height,
        "format": settings.format,
        "strategy": settings.strategy,
        "bytes": len(encoded),
    }
    if colour is not None:
        data["color"] = colour
    return ToolResult([out], data)
