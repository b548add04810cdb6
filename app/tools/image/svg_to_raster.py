"""SVG to Raster: render an SVG at a size, scale or DPI to PNG, JPEG, WebP, AVIF, TIFF, GIF or HEIF.

Untrusted SVG never reaches outside itself: documents with external references or entities are
refused before rendering, and librsvg is fed from memory with no base location, so even a reference
the check missed has nothing to resolve against (librsvg never fetches over the network or runs scripts).
"""

from __future__ import annotations

import re
from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import layout, vips
from app.engine.media.sniff import svgz_text
from app.engine.tool import InputRejected, Inputs, Produces, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

FORMAT_NAMES = {
    "png": "png",
    "jpeg": "jpeg",
    "webp": "webp",
    "avif": "avif",
    "tiff": "tiff",
    "gif": "gif",
    "heif": "heif",
}
MAX_SVG_BYTES = 20 * 1024 * 1024


class SvgToRasterSettings(ToolSettings):
    format: Literal["png", "jpeg", "webp", "avif", "tiff", "gif", "heif"] = Field("png", description="Output format")
    width: int | None = Field(None, ge=1, le=16384, description="Output width in pixels (height follows if not given)")
    height: int | None = Field(None, ge=1, le=16384, description="Output height in pixels (width follows if not given)")
    scale: float = Field(1.0, gt=0, le=20, description="Scale factor when neither width nor height is given")
    dpi: float = Field(
        96, ge=10, le=2400, description="Rendering resolution: 1in = dpi pixels, 1px = dpi/96 pixels (96 = 1:1)"
    )
    background: str = Field(
        "transparent", pattern=layout.COLOUR_PATTERN, description="'transparent' or a hex colour behind the drawing"
    )
    quality: int = Field(90, ge=1, le=100, description="Quality for lossy formats (JPEG, WebP, AVIF, HEIF)")


_ROOT_SIZE = re.compile(rb"<svg\b[^>]*?\b(?:width|height)\s*=\s*[\"']\s*[\d.]+\s*(in|cm|mm|pt|pc)\b", re.I | re.S)


def _base(data: bytes, dpi: float) -> tuple[float, float]:
    """libvips' svgload (dpi, scale) that gives Inkscape's meaning of DPI: 1in = dpi pixels, 1px = dpi/96.

    libvips 8.14 counts 72 document units per inch, so px-sized documents are rendered at its 72 dpi
    and scaled by dpi/96, while documents sized in physical units get the DPI directly.
    """
    if _ROOT_SIZE.search(data[:4096]):
        return dpi, 1.0
    return 72.0, dpi / 96


def _render(data: bytes, dpi: float, scale: float) -> pyvips.Image:
    return pyvips.Image.svgload_buffer(data, dpi=dpi, scale=scale)


@tool(
    id="svg-to-raster",
    section="image",
    title="SVG to Raster",
    description="Render SVG (or compressed .svgz) files to PNG, JPEG, WebP, AVIF, TIFF, GIF or HEIF at a chosen size, "
    "scale or DPI.",
    settings=SvgToRasterSettings,
    inputs=Inputs(kinds=("svg", "svgz")),
    formats=("svg", "svgz"),
    # Preferred over `convert` for SVG: it renders at the document's own size, not a default density.
    produces=tuple(Produces(kind, {"format": kind}, preference=5) for kind in FORMAT_NAMES),
)
def run(ctx: ToolContext, settings: SvgToRasterSettings) -> ToolResult:
    source = ctx.input
    # A compressed .svgz is unpacked here (bounded), so every check below sees the real document.
    data = svgz_text(source.path, MAX_SVG_BYTES) if source.kind == "svgz" else source.path.read_bytes()
    if source.size > MAX_SVG_BYTES or len(data) > MAX_SVG_BYTES:
        raise InputRejected("SVG too large (max 20 MB)", 413, "PAYLOAD_TOO_LARGE")
    refused = layout.svg_external_references(data)
    if refused:
        raise InputRejected(
            f"SVG files referring to external resources are not accepted ({refused[0]})", 415, "UNSAFE_INPUT"
        )
    fmt = vips.FORMATS[FORMAT_NAMES[settings.format]]
    with vips.vips_errors("Could not render the SVG (it may be invalid)"):
        dpi, base = _base(data, settings.dpi)
        head = _render(data, dpi, base)  # lazy: only the document's size is worked out here
        w0, h0 = head.width, head.height
        if settings.width and settings.height:
            factor = min(settings.width / w0, settings.height / h0)
        elif settings.width:
            factor = settings.width / w0
        elif settings.height:
            factor = settings.height / h0
        else:
            factor = settings.scale
        out_w, out_h = max(1, round(w0 * factor)), max(1, round(h0 * factor))
        if max(out_w, out_h) > layout.MAX_CANVAS_SIDE:
            raise ToolFailure(f"the result would be {out_w}x{out_h} px, over the {layout.MAX_CANVAS_SIDE} px limit")
        ctx.progress(20, "Rendering")
        # Rendering at the final scale keeps edges crisp (a vector drawing is never resampled).
        image = layout.to_rgba(_render(data, dpi, base * factor))
        if (image.width, image.height) != (out_w, out_h):
            # librsvg rounds the scaled document size its own way: trim or extend the last pixel.
            image = image.gravity("north-west", out_w, out_h, extend="copy")
        if settings.width and settings.height:
            image = image.gravity("centre", settings.width, settings.height, extend="background", background=[0] * 4)
        background = layout.colour_or_transparent(settings.background)
        if background[3] > 0:
            image = layout.composite(layout.canvas(image.width, image.height, background), [(image, 0, 0)])
        ctx.check_cancelled()
        out = vips.save(image, vips.output_path(ctx, fmt.ext), fmt, settings.quality)
    return ToolResult([out], {"width": image.width, "height": image.height, "format": settings.format})
