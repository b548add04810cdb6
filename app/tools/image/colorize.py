"""AI Colorization: DDColor predicts the colour of a black-and-white photo; its own lightness is kept."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class ColorizeSettings(ToolSettings):
    intensity: float = Field(
        100, ge=0, le=200, description="Colour intensity in percent of the model's prediction (0 = stays grey)"
    )
    model: Literal["ddcolor"] = Field("ddcolor", description="Colourisation model (DDColor, a download)")


@tool(
    id="colorize",
    section="image",
    title="AI Colorization",
    description="Colourise black-and-white photos with DDColor; the photo's own lightness and detail are kept.",
    settings=ColorizeSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature="object-eraser-colorize",
    models=("ddcolor",),
)
def run(ctx: ToolContext, settings: ColorizeSettings) -> ToolResult:
    from app.engine.media import arrays, colorize, vips

    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        picture = arrays.load(ctx)
    was_grey = colorize.is_greyscale(picture.rgb)
    ctx.check_cancelled()
    ctx.progress(20, "Colourising")
    out = colorize.colorize(picture.rgb, settings.intensity)
    ctx.check_cancelled()
    ctx.progress(90, "Saving")
    with vips.vips_errors():
        path = arrays.save(ctx, picture, out, "colorized")
    ctx.progress(100, "Done")
    return ToolResult([path], {"model": settings.model, "inputWasGrayscale": was_grey})
