"""Vignette: fade the image's edges towards a colour, with a movable, shapeable centre."""

from __future__ import annotations

import math

import pyvips
from pydantic import Field

from app.engine.media import adjust, vips
from app.engine.media.adjust import HexColor
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class VignetteSettings(ToolSettings):
    strength: float = Field(0.5, ge=0.1, le=1, description="How far the edges go towards `color` (0.1-1)")
    color: HexColor = Field("#000000", description="Colour the edges fade to (hex)")
    radius: float = Field(
        50, ge=0, le=100, description="Where the fade starts, in percent of the distance from the centre to a corner"
    )
    softness: float = Field(50, ge=0, le=100, description="Width of the fade, in percent of that distance")
    roundness: float = Field(0, ge=0, le=100, description="0: an ellipse following the image's shape; 100: a circle")
    centerX: float = Field(50, ge=0, le=100, description="Centre, in percent of the width from the left")
    centerY: float = Field(50, ge=0, le=100, description="Centre, in percent of the height from the top")


def vignette_mask(width: int, height: int, s: VignetteSettings) -> pyvips.Image:
    """One float band, 0 (untouched) to `strength` (fully faded), for a width x height frame."""
    half_w, half_h = width / 2, height / 2
    circle = max(half_w, half_h)
    rd = s.roundness / 100
    # Semi-axes of the shape: the frame's half-extents, blended towards a circle.
    axis_x = half_w + (circle - half_w) * rd
    axis_y = half_h + (circle - half_h) * rd
    xyz = pyvips.Image.xyz(width, height).cast("float")
    dx = (xyz[0] + 0.5 - width * s.centerX / 100) / axis_x
    dy = (xyz[1] + 0.5 - height * s.centerY / 100) / axis_y
    # sqrt(2) normalises so a corner of a centred ellipse is at distance 1.
    distance = (dx * dx + dy * dy) ** 0.5 / math.sqrt(2)
    start = s.radius / 100
    span = max(s.softness / 100, 0.01)
    t = adjust.clamp((distance - start) / span, 0.0, 1.0)
    smooth = t * t * (3 - 2 * t)  # smoothstep: no visible ring where the fade starts or ends
    return smooth * s.strength


@tool(
    id="vignette",
    section="image",
    title="Vignette",
    description="Darken (or tint) the edges of an image, with strength, colour, radius, softness, "
    "roundness and centre.",
    settings=VignetteSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: VignetteSettings) -> ToolResult:
    ctx.progress(5, "Applying vignette")
    colour_to = adjust.rgb(settings.color)
    with vips.vips_errors():
        image, fmt = adjust.load(ctx)

        def one(frame: pyvips.Image) -> pyvips.Image:
            mask = vignette_mask(frame.width, frame.height, settings)
            return adjust.map_colour(frame, lambda c: c * (1 - mask) + mask * colour_to)

        path = adjust.save(ctx, adjust.map_frames(image, one), fmt, "vignette")
    ctx.progress(100, "Done")
    return ToolResult([path], {"strength": settings.strength})
