"""Image Watermark: a second image (a logo) scaled to a share of the base's width, faded and placed at
one of nine positions. Animated GIF/WebP get the logo on every frame."""

from __future__ import annotations

import pyvips
from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import ExtraPart, Inputs, ToolContext, ToolResult, ToolSettings, tool


class WatermarkImageSettings(ToolSettings):
    position: draw.Position = Field("bottom-right", description="Where the watermark goes")
    opacity: float = Field(50, ge=0, le=100, description="Opacity in percent")
    scale: float = Field(25, ge=1, le=100, description="Watermark width as a percentage of the image's width")
    margin: int = Field(20, ge=0, le=10000, description="Distance from the edges in pixels")
    quality: int | None = Field(None, ge=1, le=100, description="Quality for lossy outputs")


def logo_layer(ctx: ToolContext, settings: WatermarkImageSettings, base_width: int) -> pyvips.Image:
    mark = ctx.extra["watermark"]
    # Shrink-on-load straight to the target width: a huge logo file is never fully decoded.
    target = max(1, round(base_width * settings.scale / 100))
    head = vips.first_page(vips.load(mark.path, mark.kind, sequential=False))
    factor = target / head.width
    layer = draw.as_srgb(head)
    if layer.bands == 3:
        layer = layer.addalpha()
    layer = layer.premultiply().resize(factor).unpremultiply().cast("uchar").copy(interpretation="srgb")
    return draw.set_opacity(layer, settings.opacity)


@tool(
    id="watermark-image",
    section="image",
    title="Image Watermark",
    description="Place a logo (the 'watermark' file) on an image: position, opacity and size as a share of the width.",
    settings=WatermarkImageSettings,
    inputs=Inputs(
        kinds=IMAGE_KINDS,
        extra=(ExtraPart("watermark", kinds=IMAGE_KINDS, description="The logo or mark to place on the image"),),
    ),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: WatermarkImageSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.output_format(source.kind)
    ctx.progress(5, "Placing the watermark")
    with vips.vips_errors():
        image = vips.load(source.path, source.kind, all_pages=fmt.animated)
        layer = logo_layer(ctx, settings, image.width)
        x, y = draw.place(
            settings.position, (image.width, vips.page_height(image)), (layer.width, layer.height), settings.margin
        )
        result = vips.map_pages(image, lambda frame: draw.overlay(frame, layer, x, y))
        ctx.check_cancelled()
        out = vips.save(result, vips.output_path(ctx, fmt.ext, "watermarked"), fmt, settings.quality)
        data = {"width": result.width, "height": vips.page_height(result), "watermarkWidth": layer.width}
    ctx.progress(100, "Done")
    return ToolResult([out], data)
