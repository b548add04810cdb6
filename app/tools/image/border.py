"""Border & Frame: a solid, gradient or striped border with padding, rounded corners and a drop shadow."""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import layout, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class BorderSettings(ToolSettings):
    width: int = Field(20, ge=0, le=1000, description="Border thickness in pixels")
    color: str = Field("#000000", pattern=layout.HEX_PATTERN, description="Border colour (hex)")
    style: Literal["solid", "gradient", "pattern"] = Field(
        "solid",
        description="solid: one colour; gradient: color to secondaryColor diagonally; pattern: diagonal stripes",
    )
    secondaryColor: str = Field(
        "#FFFFFF", pattern=layout.HEX_PATTERN, description="Second colour for the gradient and pattern styles"
    )
    borderRadius: int = Field(0, ge=0, le=2000, description="Radius of the outer corners in pixels")
    padding: int = Field(0, ge=0, le=1000, description="Space between the image and the border, in pixels")
    paddingColor: str = Field(
        "#FFFFFF", pattern=layout.COLOUR_PATTERN, description="Colour of the padding: hex or 'transparent'"
    )
    shadow: bool = Field(False, description="Add a soft drop shadow around the framed image (transparent margin)")


def _fill(settings: BorderSettings, width: int, height: int) -> pyvips.Image:
    first = layout.parse_colour(settings.color)
    second = layout.parse_colour(settings.secondaryColor)
    if settings.style == "gradient":
        return layout.linear_gradient(width, height, [first, second], 135)
    if settings.style == "pattern":
        stripe = max(4, settings.width // 2)
        xyz = pyvips.Image.xyz(width, height)
        band = (((xyz[0] + xyz[1]) / stripe).floor() % 2) == 0
        return band.ifthenelse(list(first), list(second)).cast("uchar").copy(interpretation="srgb")
    return layout.canvas(width, height, first)


@tool(
    id="border",
    section="image",
    title="Border & Frame",
    description="Add a solid, gradient or patterned border with padding, rounded corners and an optional shadow.",
    settings=BorderSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
)
def run(ctx: ToolContext, settings: BorderSettings) -> ToolResult:
    source = ctx.input
    pad_colour = layout.colour_or_transparent(settings.paddingColor)
    with vips.vips_errors():
        image = layout.load_rgba(source.path, source.kind)
        bw, pad = settings.width, settings.padding
        inner_w, inner_h = image.width + 2 * pad, image.height + 2 * pad
        width, height = inner_w + 2 * bw, inner_h + 2 * bw
        layout.check_size(width, height)
        inner = layout.composite(layout.canvas(inner_w, inner_h, pad_colour), [(image, pad, pad)])
        inner = layout.round_corners(inner, max(0, settings.borderRadius - bw))
        framed = layout.composite(_fill(settings, width, height), [(inner, bw, bw)])
        framed = layout.round_corners(framed, settings.borderRadius)
        margin = 0
        if settings.shadow:
            framed, margin = layout.drop_shadow(framed, "medium")
        ctx.check_cancelled()
        needs_alpha = settings.borderRadius > 0 or settings.shadow or pad_colour[3] < 255 or image[3].min() < 255
        fmt = layout.format_for_alpha(source.kind, needs_alpha)
        out = vips.save(framed, vips.output_path(ctx, fmt.ext, "border"), fmt)
    return ToolResult([out], {"width": framed.width, "height": framed.height, "shadowMargin": margin})
