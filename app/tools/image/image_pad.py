"""Image Pad: extend the canvas to an aspect ratio (16:9, 1:1, ...) with a colour, transparency or a blur."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import layout, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

RATIOS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:3": (4, 3), "3:4": (3, 4)}


class ImagePadSettings(ToolSettings):
    target: Literal["16:9", "9:16", "1:1", "4:3", "3:4", "custom"] = Field(
        "1:1", description="Aspect ratio of the result; custom uses ratioW:ratioH"
    )
    ratioW: int = Field(1, ge=1, le=100, description="Custom ratio width")
    ratioH: int = Field(1, ge=1, le=100, description="Custom ratio height")
    background: Literal["color", "transparent", "blur"] = Field(
        "color", description="Fill of the added area: a colour, transparency, or a blurred copy of the image"
    )
    color: str = Field("#FFFFFF", pattern=layout.HEX_PATTERN, description="Fill colour when background is color")
    padding: float = Field(
        0, ge=0, le=50, description="Minimum margin around the image on every side, in percent of its size"
    )


@tool(
    id="image-pad",
    section="image",
    title="Image Pad",
    description="Pad an image to 16:9, 9:16, 1:1, 4:3, 3:4 or a custom ratio with a colour, transparency or blur.",
    settings=ImagePadSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
)
def run(ctx: ToolContext, settings: ImagePadSettings) -> ToolResult:
    source = ctx.input
    rw, rh = RATIOS.get(settings.target, (settings.ratioW, settings.ratioH))
    with vips.vips_errors():
        image = layout.load_rgba(source.path, source.kind)
        # Margin first, then widen or heighten the box to the ratio; the image stays centred.
        width = round(image.width * (1 + 2 * settings.padding / 100))
        height = round(image.height * (1 + 2 * settings.padding / 100))
        if width * rh < height * rw:
            width = round(height * rw / rh)
        else:
            height = round(width * rh / rw)
        layout.check_size(width, height)
        left, top = (width - image.width) // 2, (height - image.height) // 2
        if settings.background == "blur":
            base = layout.cover(image, width, height).gaussblur(max(2.0, max(width, height) / 40))
            base = base.cast("uchar")[:3].bandjoin(255).copy(interpretation="srgb")
        elif settings.background == "transparent":
            base = layout.canvas(width, height, layout.TRANSPARENT)
        else:
            base = layout.canvas(width, height, layout.parse_colour(settings.color))
        ctx.check_cancelled()
        result = layout.composite(base, [(image, left, top)])
        fmt = layout.format_for_alpha(source.kind, settings.background == "transparent" or image[3].min() < 255)
        out = vips.save(result, vips.output_path(ctx, fmt.ext, "padded"), fmt)
    return ToolResult([out], {"width": width, "height": height})
