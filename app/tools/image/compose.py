"""Image Composition: a second image (the 'overlay' file) layered on top at x/y with an opacity and
one of libvips' blend modes."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import ExtraPart, InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

Blend = Literal[
    "normal",
    "over",
    "multiply",
    "screen",
    "overlay",
    "darken",
    "lighten",
    "color-dodge",
    "color-burn",
    "hard-light",
    "soft-light",
    "difference",
    "exclusion",
    "add",
    "saturate",
]

# Setting value -> libvips VipsBlendMode nickname.
_MODES = {"normal": "over", "color-dodge": "colour-dodge", "color-burn": "colour-burn"}


class ComposeSettings(ToolSettings):
    x: int = Field(0, ge=-100000, le=100000, description="Left edge of the overlay on the base, in pixels")
    y: int = Field(0, ge=-100000, le=100000, description="Top edge of the overlay on the base, in pixels")
    opacity: float = Field(100, ge=0, le=100, description="Overlay opacity in percent")
    blend: Blend = Field(
        "normal",
        validation_alias=AliasChoices("blend", "blendMode"),
        description="Blend mode (the Porter-Duff 'over' is 'normal'); 'blendMode' is accepted too",
    )
    quality: int | None = Field(None, ge=1, le=100, description="Quality for lossy outputs")


@tool(
    id="compose",
    section="image",
    title="Image Composition",
    description="Layer a second image (the 'overlay' file) on top at x/y with opacity and a blend mode.",
    settings=ComposeSettings,
    inputs=Inputs(
        kinds=IMAGE_KINDS,
        extra=(ExtraPart("overlay", kinds=IMAGE_KINDS, description="The image layered on top of the base"),),
    ),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: ComposeSettings) -> ToolResult:
    source, top = ctx.input, ctx.extra["overlay"]
    fmt = vips.output_format(source.kind)
    ctx.progress(5, "Compositing")
    with vips.vips_errors():
        base = vips.first_page(vips.load(source.path, source.kind, sequential=False))
        layer = draw.set_opacity(vips.first_page(vips.load(top.path, top.kind, sequential=False)), settings.opacity)
        if (
            settings.x >= base.width
            or settings.y >= base.height
            or settings.x + layer.width <= 0
            or settings.y + layer.height <= 0
        ):
            raise InputRejected("The overlay position is outside the base image", 400, "INVALID_INPUT")
        result = draw.overlay(base, layer, settings.x, settings.y, _MODES.get(settings.blend, settings.blend))
        ctx.check_cancelled()
        out = vips.save(result, vips.output_path(ctx, fmt.ext, "composed"), fmt, settings.quality)
        data = {"width": result.width, "height": result.height, "blend": settings.blend}
    ctx.progress(100, "Done")
    return ToolResult([out], data)
