"""Histogram: per-channel statistics and 256-bin counts, and an RGB histogram chart (PNG)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

if TYPE_CHECKING:
    from PIL import Image

CHANNELS = (("red", (230, 50, 50)), ("green", (40, 170, 60)), ("blue", (50, 90, 230)))
CHART_W, CHART_H, PAD = 512, 240, 12


class HistogramSettings(ToolSettings):
    scale: Literal["linear", "log"] = Field("linear", description="Vertical scale of the chart")


def chart(counts: list[list[int]], scale: str) -> Image.Image:
    """Three translucent filled curves on white, 2 px per bin."""
    from PIL import Image, ImageDraw

    transform = (lambda v: math.log1p(v)) if scale == "log" else float
    top = max(transform(c) for channel in counts for c in channel) or 1.0
    image = Image.new("RGBA", (CHART_W + 2 * PAD, CHART_H + 2 * PAD), (255, 255, 255, 255))
    for channel, (_name, colour) in zip(counts, CHANNELS, strict=True):
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        points = [(PAD, PAD + CHART_H)]
        for i, count in enumerate(channel):
            y = PAD + CHART_H - round(transform(count) / top * CHART_H)
            points += [(PAD + 2 * i, y), (PAD + 2 * i + 2, y)]
        points.append((PAD + CHART_W, PAD + CHART_H))
        ImageDraw.Draw(layer).polygon(points, fill=(*colour, 110), outline=(*colour, 255))
        image.alpha_composite(layer)
    ImageDraw.Draw(image).rectangle([PAD - 1, PAD - 1, PAD + CHART_W, PAD + CHART_H], outline=(120, 120, 120, 255))
    return image.convert("RGB")


@tool(
    id="histogram",
    section="image",
    title="Histogram",
    description="RGB histogram chart (linear or log) plus per-channel min, max, mean, deviation and 256-bin counts.",
    settings=HistogramSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: HistogramSettings) -> ToolResult:
    source = ctx.input
    ctx.progress(5, "Counting")
    with vips.vips_errors():
        image = draw.as_srgb(vips.first_page(vips.load(source.path, source.kind)))
        rgb = image.extract_band(0, n=3).copy_memory()
        stats = rgb.stats()  # row 0: all bands; row n: band n-1. Columns: min max sum sum2 mean sd ...
        # hist_find answers 256 x 1 unsigned 32-bit bins for 8-bit input.
        counts = [list(memoryview(rgb.hist_find(band=b).write_to_memory()).cast("I")) for b in range(3)]
    channels = {}
    for band, (name, _colour) in enumerate(CHANNELS):
        row = band + 1
        channels[name] = {
            "min": int(stats(0, row)[0]),
            "max": int(stats(1, row)[0]),
            "mean": round(stats(4, row)[0], 3),
            "stddev": round(stats(5, row)[0], 3),
            "histogram": counts[band],
        }
    out = vips.output_path(ctx, "png", "histogram")
    chart(counts, settings.scale).save(out)
    data = {
        "width": image.width,
        "height": image.height,
        "pixels": image.width * image.height,
        "scale": settings.scale,
        "channels": channels,
    }
    ctx.progress(100, "Done")
    return ToolResult([out], data)
