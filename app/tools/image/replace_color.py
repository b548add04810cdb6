"""Replace Color: swap one colour (within a tolerance) for another, or make it transparent."""

from __future__ import annotations

import math

import pyvips
from pydantic import Field

from app.engine.media import adjust, vips
from app.engine.media.adjust import HexColor
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

_MAX_DISTANCE = math.sqrt(3 * 255**2)  # black to white in RGB


class ReplaceColorSettings(ToolSettings):
    sourceColor: HexColor = Field("#FF0000", description="The colour to replace (hex)")
    targetColor: HexColor = Field("#00FF00", description="The replacement colour (hex)")
    tolerance: float = Field(
        30,
        ge=0,
        le=100,
        description="How far a pixel may be from sourceColor and still match, in percent of the "
        "largest RGB distance (0: exact matches only)",
    )
    makeTransparent: bool = Field(False, description="Make matching pixels transparent instead of recolouring them")


@tool(
    id="replace-color",
    section="image",
    title="Replace Color",
    description="Replace a colour (and its near shades, by tolerance) with another colour or with transparency.",
    settings=ReplaceColorSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: ReplaceColorSettings) -> ToolResult:
    ctx.progress(5, "Replacing colour")
    source = adjust.rgb(settings.sourceColor)
    target = adjust.rgb(settings.targetColor)
    limit = settings.tolerance / 100 * _MAX_DISTANCE
    with vips.vips_errors():
        image, fmt = adjust.load(ctx)
        colour, alpha = adjust.split_alpha(adjust.to_rgb8(image))
        pixels = colour.cast("float")
        distance = ((pixels - source) ** 2).bandmean() * 3  # squared Euclidean distance, one band
        match = distance <= limit * limit + 1e-6
        if settings.makeTransparent:
            opaque = alpha if alpha is not None else pyvips.Image.black(image.width, image.height) + 255
            out = colour.bandjoin(match.ifthenelse(0, opaque).cast("uchar")).copy(interpretation="srgb")
            fmt = adjust.with_alpha_format(fmt)
        else:
            # Shift matched pixels by (target - source) rather than painting them flat: the exact
            # source colour becomes the target, and the shading of near matches survives.
            shifted = adjust.clamp(pixels + [t - s for t, s in zip(target, source, strict=True)], 0, 255)
            out = adjust.join_alpha(adjust.to_uchar(match.ifthenelse(shifted, pixels)), alpha)
        matched = match.avg() / 255 * 100  # percent of pixels (match is 0 or 255)
        path = adjust.save(ctx, out, fmt, "replaced")
    ctx.progress(100, "Done")
    return ToolResult([path], {"matchedPercent": round(matched, 2), "madeTransparent": settings.makeTransparent})
