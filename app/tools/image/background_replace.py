"""Background Replace: cut out the subject (BiRefNet when installed, else the packaged U2-Net-p) and put
it on a solid colour or a linear gradient, with a feathered edge."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import adjust, segment, vips
from app.engine.media.adjust import HexColor
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class BackgroundReplaceSettings(ToolSettings):
    backgroundType: Literal["color", "gradient"] = Field("color", description="Solid colour or linear gradient")
    color: HexColor = Field("#ffffff", description="Background colour for backgroundType color")
    gradientColor1: HexColor = Field("#667eea", description="Gradient start colour")
    gradientColor2: HexColor = Field("#764ba2", description="Gradient end colour")
    gradientAngle: float = Field(
        90, ge=0, le=360, description="Gradient direction in degrees: 0 left to right, 90 top to bottom"
    )
    feather: float = Field(2, ge=0, le=20, description="Softens the subject's edge by this many pixels (0-20)")
    format: Literal["png", "webp"] = Field("png", description="Output format")


@tool(
    id="background-replace",
    section="image",
    title="Background Replace",
    description="Put the subject of a photo on a new solid or gradient background (AI segmentation on your "
    "own hardware).",
    settings=BackgroundReplaceSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature="background-removal",
    models=("u2netp",),
)
def run(ctx: ToolContext, settings: BackgroundReplaceSettings) -> ToolResult:
    rgb, alpha, found = segment.cut_out(ctx, segment.best_installed(("birefnet-general",)))
    ctx.progress(75, "Compositing")
    with vips.vips_errors():
        if settings.backgroundType == "color":
            background = segment.solid(rgb.width, rgb.height, adjust.rgb(settings.color))
        else:
            first, second = adjust.rgb(settings.gradientColor1), adjust.rgb(settings.gradientColor2)
            background = segment.gradient(rgb.width, rgb.height, first, second, settings.gradientAngle)
        mask = segment.feather(found.mask, settings.feather)
        out = segment.compose(rgb, mask, background, alpha=alpha)
        path = segment.save_as(ctx, out, settings.format, "bg")
    ctx.progress(100, "Done")
    return ToolResult([path], {**found.data(), "backgroundType": settings.backgroundType})
