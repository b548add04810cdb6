"""GIF/WebP Converter: animated GIF to animated WebP and back, keeping every frame, delay and loop count."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import vips
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class GifWebpSettings(ToolSettings):
    quality: int = Field(80, ge=1, le=100, description="WebP quality; for GIF output, fewer colours below 100")
    lossless: bool = Field(False, description="Lossless WebP (GIF is always lossless over its palette)")
    resizePercent: int = Field(100, ge=10, le=100, description="Scale every frame to this percentage")


def gif_bitdepth(quality: int) -> int:
    """Palette bits for a GIF at a 1-100 quality: 100 keeps 256 colours, 1 leaves 2."""
    return max(1, min(8, 1 + round(quality * 7 / 100)))


@tool(
    id="gif-webp",
    section="image",
    title="GIF/WebP Converter",
    description="Convert animated GIF to WebP and WebP to GIF, keeping frames, timing and looping.",
    settings=GifWebpSettings,
    inputs=Inputs(kinds=("gif", "webp")),
    formats=("gif", "webp"),
)
def run(ctx: ToolContext, settings: GifWebpSettings) -> ToolResult:
    source = ctx.input
    target = vips.FORMATS["webp" if source.kind == "gif" else "gif"]
    with vips.vips_errors():
        image = vips.load(source.path, source.kind, sequential=False, all_pages=True)
        frames = vips.page_count(image) if vips.is_animated(image) else 1
        if settings.resizePercent != 100:
            image = vips.scale(image, settings.resizePercent / 100)  # frame by frame
        ctx.progress(30, f"Encoding {frames} frame(s)")
        out = vips.output_path(ctx, target.ext)
        if target.name == "webp":
            options = {"lossless": True} if settings.lossless else {}
            vips.save(image, out, target, settings.quality, effort=4, **options)
        else:
            vips.save(image, out, target, bitdepth=gif_bitdepth(settings.quality), effort=7)
    data = {"format": target.name, "frames": frames, "width": image.width, "height": vips.page_height(image)}
    return ToolResult([out], data)
