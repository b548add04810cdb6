"""Circle Crop: a round avatar cut from the image, with zoom, offset, an optional ring and background."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import layout, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class CircleCropSettings(ToolSettings):
    zoom: float = Field(1.0, ge=1, le=5, description="1 = the largest circle that fits; higher zooms in")
    offsetX: float = Field(
        0, ge=-100, le=100, description="Horizontal shift of the circle's centre, in percent of the room to move"
    )
    offsetY: float = Field(
        0, ge=-100, le=100, description="Vertical shift of the circle's centre, in percent of the room to move"
    )
    borderWidth: int = Field(0, ge=0, le=200, description="Ring around the circle, in pixels of the output")
    borderColor: str = Field("#FFFFFF", pattern=layout.HEX_PATTERN, description="Ring colour (hex)")
    background: str = Field(
        "transparent", pattern=layout.COLOUR_PATTERN, description="Outside the circle: 'transparent' or a hex colour"
    )
    outputSize: int | None = Field(
        None, ge=16, le=4096, description="Width and height of the result (default: the crop's own size)"
    )


@tool(
    id="circle-crop",
    section="image",
    title="Circle Crop",
    description="Crop a circle (avatars, profile pictures) with zoom, offset, border ring and background.",
    settings=CircleCropSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
)
def run(ctx: ToolContext, settings: CircleCropSettings) -> ToolResult:
    source = ctx.input
    with vips.vips_errors():
        image = layout.load_rgba(source.path, source.kind)
        side = max(1, round(min(image.width, image.height) / settings.zoom))
        # An offset of 100% puts the square against that edge; 0 keeps it centred.
        room_x, room_y = image.width - side, image.height - side
        left = round(room_x / 2 + settings.offsetX / 100 * room_x / 2)
        top = round(room_y / 2 + settings.offsetY / 100 * room_y / 2)
        square = image.crop(left, top, side, side)
        size = settings.outputSize or side
        square = layout.resize(square, size / side)
        if square.width != size or square.height != size:
            square = layout.cover(square, size, size)
        ctx.check_cancelled()
        ring = min(settings.borderWidth, size // 2)
        if ring > 0:
            disc = layout.set_alpha(
                layout.canvas(size, size, layout.parse_colour(settings.borderColor)), layout.ellipse_mask(size, size)
            )
            face = layout.set_alpha(square, layout.ellipse_mask(size, size, inset=ring))
            result = layout.composite(disc, [(face, 0, 0)])
        else:
            result = layout.set_alpha(square, layout.ellipse_mask(size, size))
        background = layout.colour_or_transparent(settings.background)
        if background[3] > 0:
            result = layout.composite(layout.canvas(size, size, background), [(result, 0, 0)])
        out = vips.save(result, vips.output_path(ctx, "png", "circle"), vips.FORMATS["png"])
    return ToolResult([out], {"width": size, "height": size})
