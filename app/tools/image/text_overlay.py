"""Text Overlay: a caption at a given point (or top/center/bottom), with an optional rounded
background box behind it. Animated GIF/WebP get the caption on every frame."""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class TextOverlaySettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=500, description="The text; \\n starts a new line")
    font: draw.Font = Field("sans-serif-bold", description="Font family (CSS-style names such as 'Arial' also work)")
    fontSize: int = Field(48, ge=8, le=1000, description="Font size in pixels")
    color: draw.Color = Field("#FFFFFF", description="Text colour")
    x: int | None = Field(
        None, ge=-100000, le=100000, description="Left edge of the text box in pixels (default: centred)"
    )
    y: int | None = Field(
        None, ge=-100000, le=100000, description="Top edge of the text box in pixels (default: from `position`)"
    )
    position: Literal["top", "center", "bottom"] = Field("bottom", description="Vertical placement when y is not given")
    background: draw.Color | None = Field(
        None, description="Colour of a box behind the text (e.g. '#00000099'); none when left out"
    )
    padding: int = Field(12, ge=0, le=1000, description="Space between the text and the box edge, in pixels")
    borderRadius: int = Field(0, ge=0, le=1000, description="Corner radius of the background box, in pixels")
    align: draw.Align = Field("center", description="Alignment of multi-line text")
    quality: int | None = Field(None, ge=1, le=100, description="Quality for lossy outputs")


def caption(settings: TextOverlaySettings) -> pyvips.Image:
    """The text on its (optional) rounded box, as one RGBA layer."""
    from PIL import Image, ImageDraw

    text = draw.render_text(
        settings.text, settings.font, settings.fontSize, draw.parse_color(settings.color), align=settings.align
    )
    pad = settings.padding
    box = Image.new("RGBA", (text.width + 2 * pad, text.height + 2 * pad), (0, 0, 0, 0))
    if settings.background is not None:
        radius = min(settings.borderRadius, box.width // 2, box.height // 2)
        ImageDraw.Draw(box).rounded_rectangle(
            (0, 0, box.width - 1, box.height - 1), radius=radius, fill=draw.parse_color(settings.background)
        )
    box.alpha_composite(text, (pad, pad))
    return draw.to_vips(box)


def origin(settings: TextOverlaySettings, frame: tuple[int, int], layer: tuple[int, int]) -> tuple[int, int]:
    (width, height), (lw, lh) = frame, layer
    margin = settings.fontSize // 2
    x = settings.x if settings.x is not None else (width - lw) // 2
    if settings.y is not None:
        return x, settings.y
    y = {"top": margin, "center": (height - lh) // 2, "bottom": height - lh - margin}[settings.position]
    return x, y


@tool(
    id="text-overlay",
    section="image",
    title="Text Overlay",
    description="Write text on an image at a point or top/center/bottom, with an optional rounded background box.",
    settings=TextOverlaySettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: TextOverlaySettings) -> ToolResult:
    source = ctx.input
    fmt = vips.output_format(source.kind)
    ctx.progress(5, "Writing the text")
    layer = caption(settings)
    with vips.vips_errors():
        image = vips.load(source.path, source.kind, all_pages=fmt.animated)
        x, y = origin(settings, (image.width, vips.page_height(image)), (layer.width, layer.height))
        result = vips.map_pages(image, lambda frame: draw.overlay(frame, layer, x, y))
        ctx.check_cancelled()
        out = vips.save(result, vips.output_path(ctx, fmt.ext, "text"), fmt, settings.quality)
        data = {"width": result.width, "height": vips.page_height(result), "box": [x, y, layer.width, layer.height]}
    ctx.progress(100, "Done")
    return ToolResult([out], data)
