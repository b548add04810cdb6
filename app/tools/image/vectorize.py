"""Image to SVG: trace a raster image into vector paths with VTracer, in colour or black and white."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import eps, layout, vips
from app.engine.media.sniff import DESIGN_KINDS, IMAGE_KINDS
from app.engine.tool import Inputs, Produces, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

# Tracing time grows with the pixel count; past this size the detail gained is not worth minutes.
MAX_TRACE_SIDE = 1600


class VectorizeSettings(ToolSettings):
    colorMode: Literal["bw", "color"] = Field("color", description="Trace colours, or black and white only")
    threshold: int = Field(128, ge=0, le=255, description="bw: pixels darker than this become black")
    colorPrecision: int = Field(
        6, ge=1, le=8, description="color: significant bits per channel (fewer = fewer colours)"
    )
    filterSpeckle: int = Field(4, ge=0, le=128, description="Drop patches smaller than this many pixels (noise)")
    pathMode: Literal["none", "polygon", "spline"] = Field(
        "spline", description="Curve fitting: none (pixel edges), polygon (straight lines) or spline (smooth curves)"
    )


@tool(
    id="vectorize",
    section="image",
    title="Image to SVG",
    description="Convert a raster image to SVG vector paths, in colour or black and white (VTracer).",
    settings=VectorizeSettings,
    inputs=Inputs(kinds=(*IMAGE_KINDS, *DESIGN_KINDS)),
    produces=(Produces("svg", preference=30),),
)
def run(ctx: ToolContext, settings: VectorizeSettings) -> ToolResult:
    import vtracer

    source = eps.readable(ctx, ctx.input)
    with vips.vips_errors():
        image = layout.load_rgba(source.path, source.kind, max_side=MAX_TRACE_SIDE)
        if settings.colorMode == "bw":
            # Threshold ourselves (transparent counts as white), so the setting means what it says.
            flat = image.flatten(background=[255, 255, 255]).colourspace("b-w")[0]
            image = (flat >= settings.threshold).ifthenelse(255, 0).cast("uchar")
        png = image.write_to_buffer(".png")
    ctx.progress(20, "Tracing")
    try:
        svg = vtracer.convert_raw_image_to_svg(
            png,
            img_format="png",
            colormode="binary" if settings.colorMode == "bw" else "color",
            hierarchical="stacked",
            mode=settings.pathMode,
            filter_speckle=settings.filterSpeckle,
            color_precision=settings.colorPrecision,
            path_precision=2,
        )
    except Exception as exc:  # VTracer raises plain exceptions from Rust; the input is what failed
        raise ToolFailure("could not trace this image") from exc
    ctx.check_cancelled()
    out = vips.output_path(ctx, "svg")
    out.write_text(svg, encoding="utf-8")
    return ToolResult([out], {"width": image.width, "height": image.height, "paths": svg.count("<path")})
