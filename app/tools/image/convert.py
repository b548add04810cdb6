"""Convert: re-encode an image as JPEG, PNG, WebP, AVIF, TIFF, GIF or HEIC/HEIF."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

TargetFormat = Literal["jpg", "png", "webp", "avif", "tiff", "gif", "heic", "heif"]
_FORMAT = {
    "jpg": "jpeg",
    "png": "png",
    "webp": "webp",
    "avif": "avif",
    "tiff": "tiff",
    "gif": "gif",
    "heic": "heic",
    "heif": "heif",
}


class ConvertSettings(ToolSettings):
    format: TargetFormat = Field("jpg", description="Output format (HEIC and HEIF are HEVC-coded, AVIF is AV1-coded)")
    quality: int = Field(
        vips.DEFAULT_QUALITY, ge=1, le=100, description="Quality for lossy formats (JPEG, WebP, AVIF, HEIC/HEIF)"
    )


@tool(
    id="convert",
    section="image",
    title="Convert",
    description="Convert an image to JPEG, PNG, WebP, AVIF, TIFF, GIF, HEIC or HEIF.",
    settings=ConvertSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "heif", "tiff", "gif", "bmp", "svg"),
)
def run(ctx: ToolContext, settings: ConvertSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.FORMATS[_FORMAT[settings.format]]
    ctx.progress(5, f"Converting to {settings.format.upper()}")
    with vips.vips_errors():
        # Animated GIF/WebP into GIF/WebP keeps every frame; any other target gets the first frame.
        image = vips.load(source.path, source.kind, all_pages=fmt.animated)
        ctx.check_cancelled()
        out = vips.save(image, vips.output_path(ctx, fmt.ext), fmt, settings.quality)
        result = {"format": settings.format, "width": image.width, "height": vips.page_height(image)}
    ctx.progress(100, "Done")
    return ToolResult([out], result)
