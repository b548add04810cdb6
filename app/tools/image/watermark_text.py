"""Text Watermark: a line of text at one of nine positions, or tiled across the image, with opacity
and rotation. Animated GIF/WebP get the mark on every frame."""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

WatermarkPosition = Literal[
    "top-left",
    "top-center",
    "top-right",
    "center-left",
    "center",
    "center-right",
    "bottom-left",
    "bottom-center",
    "bottom-right",
    "tiled",
]


class WatermarkTextSettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=500, description="The watermark text")
    font: draw.Font = Field("sans-serif", description="Font family (CSS-style names such as 'Arial' also work)")
    fontSize: int = Field(48, ge=8, le=1000, description="Font size in pixels")
    color: draw.Color = Field("#000000", description="Text colour: #rrggbb, #rrggbbaa, rgb(...) or a CSS name")
    opacity: float = Field(50, ge=0, le=100, description="Opacity in percent")
    position: WatermarkPosition = Field(
        "center", description="Where the text goes; 'tiled' repeats it across the image (same as tile=true)"
    )
    rotation: float = Field(0, ge=-360, le=360, description="Rotation in degrees, clockwise")
    tile: bool = Field(False, description="Repeat the text across the whole image")
    margin: int | None = Field(
        None, ge=0, le=10000, description="Distance from the edges in pixels (default: half the font size)"
    )
    quality: int | None = Field(None, ge=1, le=100, description="Quality for lossy outputs")


def text_layer(settings: WatermarkTextSettings) -> pyvips.Image:
    """The text, coloured and faded, turned clockwise by `rotation`, as an RGBA libvips image."""
    from PIL import Image

    fill = draw.with_opacity(draw.parse_color(settings.color), settings.opacity)
    layer = draw.render_text(settings.text, settings.font, settings.fontSize, fill)
    if settings.rotation % 360:
        # Pillow turns counter-clockwise; the setting (like CSS and SVG) is clockwise.
        layer = layer.rotate(-settings.rotation, expand=True, resample=Image.Resampling.BICUBIC)
    return draw.to_vips(layer)


def mark(frame: pyvips.Image, layer: pyvips.Image, settings: WatermarkTextSettings) -> pyvips.Image:
    width, height = frame.width, frame.height
    if settings.tile or settings.position == "tiled":
        gap_x = max(settings.fontSize * 2, layer.width // 2)
        sheet = draw.tile(layer, width, height, gap_x, settings.fontSize * 2)
        return draw.overlay(frame, sheet, 0, 0)
    margin = settings.margin if settings.margin is not None else settings.fontSize // 2
    room_w, room_h = max(1, width - 2 * margin), max(1, height - 2 * margin)
    if layer.width > room_w or layer.height > room_h:
        # Text wider than the picture would be cut off: shrink it to fit instead.
        layer = layer.resize(min(room_w / layer.width, room_h / layer.height))
    x, y = draw.place(settings.position, (width, height), (layer.width, layer.height), margin)
    return draw.overlay(frame, layer, x, y)


@tool(
    id="watermark-text",
    section="image",
    title="Text Watermark",
    description="Stamp text on an image: font, size, colour, opacity, nine positions or tiled, rotation.",
    settings=WatermarkTextSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: WatermarkTextSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.output_format(source.kind)
    ctx.progress(5, "Drawing the watermark")
    layer = text_layer(settings)
    with vips.vips_errors():
        image = vips.load(source.path, source.kind, all_pages=fmt.animated)
        result = vips.map_pages(image, lambda frame: mark(frame, layer, settings))
        ctx.check_cancelled()
        out = vips.save(result, vips.output_path(ctx, fmt.ext, "watermarked"), fmt, settings.quality)
        data = {"width": result.width, "height": vips.page_height(result)}
    ctx.progress(100, "Done")
    return ToolResult([out], data)
