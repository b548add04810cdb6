"""Blur Background: keep the subject sharp (BiRefNet when installed, else the packaged U2-Net-p) and
blur what is behind it, like a wide-aperture lens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import segment, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class BlurBackgroundSettings(ToolSettings):
    intensity: int = Field(50, ge=1, le=100, description="Blur strength (1-100; 100 = 5% of the long side)")
    feather: float = Field(4, ge=0, le=20, description="Softens the subject's edge by this many pixels (0-20)")
    format: Literal["png", "webp"] = Field("png", description="Output format")


@tool(
    id="blur-background",
    section="image",
    title="Blur Background",
    description="Blur the background behind the subject of a photo and keep the subject sharp (AI "
    "segmentation on your own hardware).",
    settings=BlurBackgroundSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature="background-removal",
    models=("u2netp",),
)
def run(ctx: ToolContext, settings: BlurBackgroundSettings) -> ToolResult:
    rgb, alpha, found = segment.cut_out(ctx, segment.best_installed(("birefnet-general",)))
    ctx.progress(70, "Blurring the background")
    with vips.vips_errors():
        sigma = segment.blur_sigma(settings.intensity, rgb.width, rgb.height)
        background = segment.blurred_background(rgb, found.mask, sigma)
        out = segment.compose(rgb, segment.feather(found.mask, settings.feather), background)
        if alpha is not None:  # keep the input's own transparency
            out = out.bandjoin(alpha).copy(interpretation="srgb")
        path = segment.save_as(ctx, out, settings.format, "blurred")
    ctx.progress(100, "Done")
    return ToolResult([path], {**found.data(), "intensity": settings.intensity})
