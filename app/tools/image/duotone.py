"""Duotone: map the image's tones onto a gradient between a shadow and a highlight colour."""

from __future__ import annotations

import pyvips
from pydantic import Field

from app.engine.media import adjust, vips
from app.engine.media.adjust import HexColor
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class DuotoneSettings(ToolSettings):
    shadow: HexColor = Field("#1E3A8A", description="Colour the darkest tones become (hex)")
    highlight: HexColor = Field("#FDE68A", description="Colour the lightest tones become (hex)")
    intensity: float = Field(
        100, ge=0, le=100, description="Blend with the original: 100 is full duotone, 0 the original"
    )


@tool(
    id="duotone",
    section="image",
    title="Duotone",
    description="Recolour an image with two colours: shadows to one, highlights to the other.",
    settings=DuotoneSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: DuotoneSettings) -> ToolResult:
    ctx.progress(5, "Applying duotone")
    dark = adjust.rgb(settings.shadow)
    light = adjust.rgb(settings.highlight)
    mix = settings.intensity / 100

    def duotone(colour: pyvips.Image) -> pyvips.Image:
        tone = adjust.luma(colour) / 255  # 0 (black) .. 1 (white)
        mapped = tone * [h - d for h, d in zip(light, dark, strict=True)] + dark
        return colour * (1 - mix) + mapped * mix

    with vips.vips_errors():
        image, fmt = adjust.load(ctx)
        path = adjust.save(ctx, adjust.map_colour(image, duotone), fmt, "duotone")
    ctx.progress(100, "Done")
    return ToolResult([path], {"shadow": settings.shadow, "highlight": settings.highlight})
