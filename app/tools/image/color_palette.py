"""Color Palette: the dominant colours of an image (median cut refined by k-means) and a swatch strip."""

from __future__ import annotations

import colorsys
from typing import TYPE_CHECKING, Literal

import pyvips
from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

if TYPE_CHECKING:
    from PIL import Image

SAMPLE = 128  # colours are found on a thumbnail this size: plenty for dominant colours, and fast
SWATCH = 96


class ColorPaletteSettings(ToolSettings):
    count: int = Field(8, ge=2, le=16, description="How many dominant colours")
    format: Literal["hex", "rgb", "hsl"] = Field("hex", description="How `colors` are written")


def formatted(rgb: tuple[int, int, int], fmt: str) -> str:
    if fmt == "rgb":
        return "rgb({}, {}, {})".format(*rgb)
    if fmt == "hsl":
        h, lightness, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
        return f"hsl({round(h * 360)}, {round(s * 100)}%, {round(lightness * 100)}%)"
    return draw.to_hex(rgb)


def opaque_pixels(image: pyvips.Image) -> Image.Image:
    """The thumbnail's opaque pixels as a one-row RGB image (transparent areas are not colours)."""
    from PIL import Image

    pil = draw.to_pil(image)
    if pil.mode != "RGBA":
        return pil.convert("RGB")
    data = pil.getdata()
    kept = [(r, g, b) for r, g, b, a in data if a >= 128]
    if not kept:
        raise ToolFailure("The image is fully transparent")
    strip = Image.new("RGB", (len(kept), 1))
    strip.putdata(kept)
    return strip


def swatches(colours: list[tuple[tuple[int, int, int], float]]) -> Image.Image:
    from PIL import Image, ImageDraw

    strip = Image.new("RGB", (SWATCH * len(colours), SWATCH + 28), "white")
    d = ImageDraw.Draw(strip)
    font = draw.load_font("monospace", 13)
    for n, (rgb, _share) in enumerate(colours):
        d.rectangle([n * SWATCH, 0, (n + 1) * SWATCH - 1, SWATCH - 1], fill=rgb)
        d.text((n * SWATCH + SWATCH // 2, SWATCH + 14), draw.to_hex(rgb), fill="#222", font=font, anchor="mm")
    return strip


@tool(
    id="color-palette",
    section="image",
    title="Color Palette",
    description="Extract the dominant colours (hex, rgb or hsl) with their shares, plus a PNG swatch strip.",
    settings=ColorPaletteSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: ColorPaletteSettings) -> ToolResult:
    from PIL import Image

    source = ctx.input
    ctx.progress(5, "Sampling colours")
    with vips.vips_errors():
        thumb = pyvips.Image.thumbnail(str(source.path), SAMPLE, height=SAMPLE, size="down", fail_on="truncated")
        pixels = opaque_pixels(draw.as_srgb(thumb))
    # Median cut finds the clusters; a few k-means passes move each centre onto its members' mean.
    quantised = pixels.quantize(colors=settings.count, method=Image.Quantize.MEDIANCUT, kmeans=3)
    palette = quantised.getpalette() or []
    counts = sorted(quantised.getcolors(settings.count) or [], reverse=True)
    total = sum(c for c, _ in counts) or 1
    colours = [((palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2]), c / total) for c, i in counts]
    out = vips.output_path(ctx, "png", "palette")
    swatches(colours).save(out)
    data = {
        "colors": [formatted(rgb, settings.format) for rgb, _ in colours],
        "hex": [draw.to_hex(rgb) for rgb, _ in colours],
        "count": len(colours),
        "palette": [
            {"hex": draw.to_hex(rgb), "rgb": list(rgb), "percent": round(share * 100, 2)} for rgb, share in colours
        ],
    }
    ctx.progress(100, "Done")
    return ToolResult([out], data)
