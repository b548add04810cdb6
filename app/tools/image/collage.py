"""Collage / Grid: several images laid out on one canvas by a template (grids, one big plus small, mosaics)."""

from __future__ import annotations

import math
from typing import Literal, get_args

from pydantic import Field

from app.engine.media import layout, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

# A template is a grid of (columns, rows) units, the cells as (x, y, w, h) in those units, and the
# canvas aspect ratio (width, height). Every image fills its cell (cover), one image per cell.
Cell = tuple[int, int, int, int]
Template = tuple[int, int, list[Cell], tuple[int, int]]


def _grid(cols: int, rows: int) -> Template:
    return cols, rows, [(x, y, 1, 1) for y in range(rows) for x in range(cols)], (cols, rows)


TEMPLATES: dict[str, Template] = {
    **{f"grid-{c}x{r}": _grid(c, r) for c, r in [(2, 1), (1, 2), (3, 1), (1, 3), (2, 2), (3, 2), (2, 3)]},
    **{f"grid-{c}x{r}": _grid(c, r) for c, r in [(4, 1), (1, 4), (3, 3), (4, 2), (2, 4), (4, 3), (3, 4)]},
    "grid-4x4": _grid(4, 4),
    "grid-5x5": _grid(5, 5),
    # One big image and smaller ones beside it.
    "big-left-2": (2, 2, [(0, 0, 1, 2), (1, 0, 1, 1), (1, 1, 1, 1)], (3, 2)),
    "big-right-2": (2, 2, [(1, 0, 1, 2), (0, 0, 1, 1), (0, 1, 1, 1)], (3, 2)),
    "big-top-2": (2, 2, [(0, 0, 2, 1), (0, 1, 1, 1), (1, 1, 1, 1)], (2, 3)),
    "big-bottom-2": (2, 2, [(0, 1, 2, 1), (0, 0, 1, 1), (1, 0, 1, 1)], (2, 3)),
    "big-left-3": (3, 3, [(0, 0, 2, 3), (2, 0, 1, 1), (2, 1, 1, 1), (2, 2, 1, 1)], (4, 3)),
    "big-right-3": (3, 3, [(1, 0, 2, 3), (0, 0, 1, 1), (0, 1, 1, 1), (0, 2, 1, 1)], (4, 3)),
    "big-top-3": (3, 3, [(0, 0, 3, 2), (0, 2, 1, 1), (1, 2, 1, 1), (2, 2, 1, 1)], (3, 4)),
    "big-bottom-3": (3, 3, [(0, 1, 3, 2), (0, 0, 1, 1), (1, 0, 1, 1), (2, 0, 1, 1)], (3, 4)),
    "big-top-left-5": (
        3,
        3,
        [(0, 0, 2, 2), (2, 0, 1, 1), (2, 1, 1, 1), (0, 2, 1, 1), (1, 2, 1, 1), (2, 2, 1, 1)],
        (1, 1),
    ),
    "big-center-10": (
        4,
        4,
        [(1, 1, 2, 2), (0, 1, 1, 2), (3, 1, 1, 2)] + [(x, y, 1, 1) for y in (0, 3) for x in range(4)],
        (1, 1),
    ),
    # Mosaics: rows with different counts, and brick-like offsets.
    "mosaic-2-3": (6, 2, [(0, 0, 3, 1), (3, 0, 3, 1), (0, 1, 2, 1), (2, 1, 2, 1), (4, 1, 2, 1)], (3, 2)),
    "mosaic-3-2": (6, 2, [(0, 0, 2, 1), (2, 0, 2, 1), (4, 0, 2, 1), (0, 1, 3, 1), (3, 1, 3, 1)], (3, 2)),
    "mosaic-1-2-1": (2, 3, [(0, 0, 2, 1), (0, 1, 1, 1), (1, 1, 1, 1), (0, 2, 2, 1)], (2, 3)),
    "mosaic-2-1-2": (2, 3, [(0, 0, 1, 1), (1, 0, 1, 1), (0, 1, 2, 1), (0, 2, 1, 1), (1, 2, 1, 1)], (2, 3)),
    "mosaic-tall-wide": (3, 2, [(0, 0, 1, 2), (1, 0, 2, 1), (1, 1, 1, 1), (2, 1, 1, 1)], (3, 2)),
    "mosaic-pinwheel": (3, 3, [(0, 0, 2, 1), (2, 0, 1, 2), (1, 2, 2, 1), (0, 1, 1, 2), (1, 1, 1, 1)], (1, 1)),
    "mosaic-brick-7": (
        6,
        3,
        [(0, 0, 3, 1), (3, 0, 3, 1), (0, 1, 2, 1), (2, 1, 2, 1), (4, 1, 2, 1), (0, 2, 3, 1), (3, 2, 3, 1)],
        (3, 2),
    ),
    "mosaic-magazine": (
        4,
        3,
        [(0, 0, 2, 2), (2, 0, 2, 1), (2, 1, 1, 1), (3, 1, 1, 1), (0, 2, 1, 1), (1, 2, 1, 1), (2, 2, 2, 1)],
        (4, 3),
    ),
}
TemplateId = Literal[
    "auto",
    "grid-2x1",
    "grid-1x2",
    "grid-3x1",
    "grid-1x3",
    "grid-2x2",
    "grid-3x2",
    "grid-2x3",
    "grid-4x1",
    "grid-1x4",
    "grid-3x3",
    "grid-4x2",
    "grid-2x4",
    "grid-4x3",
    "grid-3x4",
    "grid-4x4",
    "grid-5x5",
    "big-left-2",
    "big-right-2",
    "big-top-2",
    "big-bottom-2",
    "big-left-3",
    "big-right-3",
    "big-top-3",
    "big-bottom-3",
    "big-top-left-5",
    "big-center-10",
    "mosaic-2-3",
    "mosaic-3-2",
    "mosaic-1-2-1",
    "mosaic-2-1-2",
    "mosaic-tall-wide",
    "mosaic-pinwheel",
    "mosaic-brick-7",
    "mosaic-magazine",
]
assert set(get_args(TemplateId)) == {"auto", *TEMPLATES}, "the enum and the table must list the same templates"


class CollageSettings(ToolSettings):
    template: TemplateId = Field(
        "auto",
        description=(
            "Layout: grid-CxR (C columns, R rows), big-* (one large image beside smaller ones), mosaic-* "
            "(rows with different counts); 'auto' picks a near-square grid for the number of images. "
            "A template takes exactly as many images as it has cells."
        ),
    )
    gap: int = Field(10, ge=0, le=200, description="Space between and around the images, in pixels")
    backgroundColor: str = Field("#FFFFFF", pattern=layout.HEX_PATTERN, description="Canvas colour (hex)")
    borderRadius: int = Field(0, ge=0, le=500, description="Corner radius of each image, in pixels")
    width: int = Field(1200, ge=64, le=8192, description="Width of the collage in pixels (height follows the layout)")
    format: Literal["png", "jpeg", "webp"] = Field("jpeg", description="Output format")
    quality: int = Field(90, ge=1, le=100, description="Quality for JPEG/WebP")


def _auto(count: int) -> Template:
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    cells = [(i % cols, i // cols, 1, 1) for i in range(count)]
    return cols, rows, cells, (cols, rows)


def _rect(cell: Cell, cols: int, rows: int, width: int, height: int, gap: int) -> tuple[int, int, int, int]:
    """Pixel box of a cell: every cell has the gap on its left/top, the canvas on its right/bottom too."""
    x, y, w, h = cell
    unit_w, unit_h = (width - gap) / cols, (height - gap) / rows
    left, top = round(gap + x * unit_w), round(gap + y * unit_h)
    right, bottom = round((x + w) * unit_w), round((y + h) * unit_h)
    return left, top, max(1, right - left), max(1, bottom - top)


@tool(
    id="collage",
    section="image",
    title="Collage / Grid",
    description="Combine 2-25 images into one collage: grids, one big plus small, and mosaic templates.",
    settings=CollageSettings,
    inputs=Inputs(kinds=IMAGE_KINDS, min_files=2, max_files=25),
)
def run(ctx: ToolContext, settings: CollageSettings) -> ToolResult:
    count = len(ctx.inputs)
    template = _auto(count) if settings.template == "auto" else TEMPLATES[settings.template]
    cols, rows, cells, (aspect_w, aspect_h) = template
    if len(cells) != count:
        raise InputRejected(
            f"Template {settings.template} takes {len(cells)} images, got {count}", 400, "WRONG_FILE_COUNT"
        )
    width = settings.width
    height = max(64, round(width * aspect_h / aspect_w))
    gap = min(settings.gap, width // (2 * cols), height // (2 * rows))
    background = layout.parse_colour(settings.backgroundColor)
    layers = []
    with vips.vips_errors():
        for index, (source, cell) in enumerate(zip(ctx.inputs, cells, strict=True)):
            ctx.check_cancelled()
            left, top, w, h = _rect(cell, cols, rows, width, height, gap)
            # Shrink-on-load straight to about the cell's size: never decode more than is shown.
            image = layout.load_rgba(source.path, source.kind, max_side=max(w, h) * 2)
            tile = layout.round_corners(layout.cover(image, w, h), settings.borderRadius)
            layers.append((tile, left, top))
            ctx.progress(10 + 80 * (index + 1) / count, f"Placed image {index + 1} of {count}")
        result = layout.composite(layout.canvas(width, height, background), layers)
        out = layout.save_rgba(result, ctx.output_path("collage"), settings.format, settings.quality)
    return ToolResult([out], {"width": width, "height": height, "images": count, "template": settings.template})
