"""Stitch / Combine: images side by side, stacked, or in a grid, with a gap and an alignment."""

from __future__ import annotations

import math
from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import layout, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

Alignment = Literal["start", "center", "end"]


class StitchSettings(ToolSettings):
    direction: Literal["horizontal", "vertical", "grid"] = Field(
        "horizontal", description="Side by side, stacked top to bottom, or in a grid of `columns`"
    )
    gap: int = Field(0, ge=0, le=500, description="Space between images, in pixels")
    backgroundColor: str = Field(
        "#FFFFFF", pattern=layout.HEX_PATTERN, description="Colour of the gap and of unused space (hex)"
    )
    alignment: Alignment = Field(
        "center",
        description="Where a smaller image sits across the stitching direction: start (top/left), center, end",
    )
    resizeMode: Literal["original", "fit"] = Field(
        "fit",
        description=(
            "fit: scale every image to the smallest height (horizontal) or width (vertical) so edges line "
            "up; original: keep each image's size and align it"
        ),
    )
    columns: int | None = Field(None, ge=1, le=20, description="Columns for the grid direction (default: near-square)")
    format: Literal["png", "jpeg", "webp"] = Field("png", description="Output format")
    quality: int = Field(90, ge=1, le=100, description="Quality for JPEG/WebP")


def _offset(free: int, alignment: Alignment) -> int:
    return 0 if alignment == "start" else free if alignment == "end" else free // 2


@tool(
    id="stitch",
    section="image",
    title="Stitch / Combine",
    description="Join 2-20 images horizontally, vertically or in a grid, with a gap, background and alignment.",
    settings=StitchSettings,
    inputs=Inputs(kinds=IMAGE_KINDS, min_files=2, max_files=20),
)
def run(ctx: ToolContext, settings: StitchSettings) -> ToolResult:
    gap, align = settings.gap, settings.alignment
    with vips.vips_errors():
        images = [layout.load_rgba(f.path, f.kind) for f in ctx.inputs]
        ctx.progress(30, "Arranging")
        if settings.resizeMode == "fit" and settings.direction != "grid":
            if settings.direction == "horizontal":
                target = min(i.height for i in images)
                images = [layout.resize(i, target / i.height) for i in images]
            else:
                target = min(i.width for i in images)
                images = [layout.resize(i, target / i.width) for i in images]
        layers: list[tuple[pyvips.Image, int, int]] = []
        if settings.direction == "horizontal":
            width = sum(i.width for i in images) + gap * (len(images) - 1)
            height = max(i.height for i in images)
            x = 0
            for image in images:
                layers.append((image, x, _offset(height - image.height, align)))
                x += image.width + gap
        elif settings.direction == "vertical":
            width = max(i.width for i in images)
            height = sum(i.height for i in images) + gap * (len(images) - 1)
            y = 0
            for image in images:
                layers.append((image, _offset(width - image.width, align), y))
                y += image.height + gap
        else:
            cols = settings.columns or math.ceil(math.sqrt(len(images)))
            rows = math.ceil(len(images) / cols)
            cell_w, cell_h = max(i.width for i in images), max(i.height for i in images)
            width, height = cols * cell_w + gap * (cols - 1), rows * cell_h + gap * (rows - 1)
            for index, image in enumerate(images):
                cx, cy = (index % cols) * (cell_w + gap), (index // cols) * (cell_h + gap)
                layers.append(
                    (image, cx + _offset(cell_w - image.width, align), cy + _offset(cell_h - image.height, align))
                )
        ctx.check_cancelled()
        base = layout.canvas(width, height, layout.parse_colour(settings.backgroundColor))
        result = layout.composite(base, layers)
        out = layout.save_rgba(result, ctx.output_path("stitched"), settings.format, settings.quality)
    return ToolResult([out], {"width": width, "height": height, "images": len(images)})
