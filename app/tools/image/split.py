"""Image Splitting: cut an image into a grid, rows, columns or fixed-size tiles; the tiles come in a ZIP."""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import Field

from app.engine.media import layout, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

MAX_TILES = 1024


class SplitSettings(ToolSettings):
    mode: Literal["grid", "rows", "cols"] = Field(
        "grid", description="grid: rows x cols tiles; rows: horizontal strips; cols: vertical strips"
    )
    rows: int = Field(2, ge=1, le=100, description="Number of rows (grid and rows modes)")
    cols: int = Field(2, ge=1, le=100, description="Number of columns (grid and cols modes)")
    tileWidth: int | None = Field(
        None, ge=1, le=16384, description="Tile width in pixels; overrides cols (the last column may be narrower)"
    )
    tileHeight: int | None = Field(
        None, ge=1, le=16384, description="Tile height in pixels; overrides rows (the last row may be shorter)"
    )


def _edges(total: int, parts: int | None, size: int | None) -> list[int]:
    """Cut positions along one side: `parts` even parts (rounded) or steps of `size` pixels."""
    if size is not None:
        return [*range(0, total, size), total]
    parts = max(1, min(parts or 1, total))
    return [round(i * total / parts) for i in range(parts + 1)]


@tool(
    id="split",
    section="image",
    title="Image Splitting",
    description="Split an image into a grid, rows, columns or fixed-size tiles, returned as a ZIP.",
    settings=SplitSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
)
def run(ctx: ToolContext, settings: SplitSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.output_format(source.kind)
    if fmt.name == "gif":
        fmt = vips.FORMATS["png"]
    with vips.vips_errors():
        image = vips.first_page(vips.load(source.path, source.kind, sequential=False)).copy_memory()
        cols = None if settings.mode == "rows" else settings.cols
        rows = None if settings.mode == "cols" else settings.rows
        xs = _edges(image.width, cols, settings.tileWidth)
        ys = _edges(image.height, rows, settings.tileHeight)
        count = (len(xs) - 1) * (len(ys) - 1)
        if count > MAX_TILES:
            raise ToolFailure(f"that would make {count} tiles (at most {MAX_TILES})")
        digits = max(2, len(str(max(len(xs), len(ys)))))
        files: list[tuple[str, bytes]] = []
        tiles = []
        for r, (top, bottom) in enumerate(itertools.pairwise(ys)):
            for c, (left, right) in enumerate(itertools.pairwise(xs)):
                ctx.check_cancelled()
                tile = image.crop(left, top, right - left, bottom - top)
                name = f"{source.stem}_r{r + 1:0{digits}d}_c{c + 1:0{digits}d}.{fmt.ext}"
                files.append((name, vips.encode(vips.prepare_for(tile, fmt), fmt)))
                tiles.append(
                    {
                        "name": name,
                        "row": r + 1,
                        "col": c + 1,
                        "x": left,
                        "y": top,
                        "width": right - left,
                        "height": bottom - top,
                    }
                )
            ctx.progress(5 + 90 * (r + 1) / max(1, len(ys) - 1), f"Row {r + 1}")
        out = layout.write_zip(vips.output_path(ctx, "zip", "tiles"), files)
    return ToolResult(
        [out], {"rows": len(ys) - 1, "cols": len(xs) - 1, "tiles": tiles if len(tiles) <= 256 else len(tiles)}
    )
