"""Sprite Sheet: pack 2-64 images into one sheet, with a CSS file and a JSON map of every sprite's box."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Literal

from pydantic import Field

from app.engine.media import layout, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class SpriteSheetSettings(ToolSettings):
    columns: int = Field(4, ge=1, le=16, description="Sprites per row")
    padding: int = Field(2, ge=0, le=100, description="Space between sprites, in pixels")
    background: str = Field(
        "transparent", pattern=layout.COLOUR_PATTERN, description="Sheet background: 'transparent' or a hex colour"
    )
    format: Literal["png", "webp", "jpeg"] = Field("png", description="Sheet image format")
    quality: int = Field(90, ge=1, le=100, description="Quality for WebP/JPEG")


def _css_name(name: str) -> str:
    """A file name as a CSS class fragment: letters, digits, '-' and '_' only."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(name).stem).strip("-").lower() or "sprite"
    return stem if not stem[0].isdigit() else f"s-{stem}"


@tool(
    id="sprite-sheet",
    section="image",
    title="Sprite Sheet",
    description="Combine 2-64 images into a sprite sheet with a CSS file and a JSON map of sprite positions.",
    settings=SpriteSheetSettings,
    inputs=Inputs(kinds=IMAGE_KINDS, min_files=2, max_files=64),
)
def run(ctx: ToolContext, settings: SpriteSheetSettings) -> ToolResult:
    pad = settings.padding
    with vips.vips_errors():
        images = [layout.load_rgba(f.path, f.kind) for f in ctx.inputs]
        cols = min(settings.columns, len(images))
        rows = math.ceil(len(images) / cols)
        # Each column is as wide as its widest sprite and each row as tall as its tallest one.
        col_w = [max(images[i].width for i in range(c, len(images), cols)) for c in range(cols)]
        row_h = [max(im.height for im in images[r * cols : (r + 1) * cols]) for r in range(rows)]
        xs = [sum(col_w[:c]) + pad * c for c in range(cols)]
        ys = [sum(row_h[:r]) + pad * r for r in range(rows)]
        width, height = xs[-1] + col_w[-1], ys[-1] + row_h[-1]
        names = layout.unique_names([_css_name(f.name) for f in ctx.inputs])
        layers, frames = [], {}
        for index, (image, name) in enumerate(zip(images, names, strict=True)):
            x, y = xs[index % cols], ys[index // cols]
            layers.append((image, x, y))
            frames[name] = {
                "x": x,
                "y": y,
                "width": image.width,
                "height": image.height,
                "source": ctx.inputs[index].name,
            }
        ctx.progress(60, "Packing")
        base = layout.canvas(width, height, layout.colour_or_transparent(settings.background))
        sheet = layout.composite(base, layers)
        sheet_path = layout.save_rgba(sheet, ctx.output_path("spritesheet"), settings.format, settings.quality)
    css = [
        f".sprite {{ display: inline-block; background-image: url('{sheet_path.name}'); "
        "background-repeat: no-repeat; }"
    ]
    for name, box in frames.items():
        css.append(
            f".sprite-{name} {{ width: {box['width']}px; height: {box['height']}px; "
            f"background-position: {-box['x']}px {-box['y']}px; }}"
        )
    css_path = ctx.output_path("spritesheet.css")
    css_path.write_text("\n".join(css) + "\n", encoding="utf-8")
    mapping = {"image": sheet_path.name, "width": width, "height": height, "sprites": frames}
    json_path = ctx.output_path("spritesheet.json")
    json_path.write_text(json.dumps(mapping, indent=2), encoding="utf-8")
    return ToolResult([sheet_path, css_path, json_path], {"width": width, "height": height, "sprites": frames})
