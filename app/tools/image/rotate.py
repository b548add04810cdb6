"""Rotate & Flip: turn by any angle (right angles are lossless), mirror horizontally and/or vertically."""

from __future__ import annotations

import pyvips
from pydantic import Field

from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

_RIGHT_ANGLES = {90: "d90", 180: "d180", 270: "d270"}


class RotateSettings(ToolSettings):
    angle: float = Field(
        0,
        ge=-360,
        le=360,
        description=(
            "Degrees clockwise (negative turns counter-clockwise). Multiples of 90 are exact; other angles "
            "enlarge the canvas, filled transparent (white for JPEG)"
        ),
    )
    horizontal: bool = Field(False, description="Mirror left to right (applied after the rotation)")
    vertical: bool = Field(False, description="Mirror top to bottom (applied after the rotation)")


def _normalise(angle: float) -> tuple[float, str | None]:
    """The angle in [0, 360) and, when it is a right angle, libvips' exact turn for it."""
    turned = angle % 360.0
    nearest = round(turned)
    if abs(turned - nearest) < 1e-6:
        turned = float(nearest % 360)
        return turned, _RIGHT_ANGLES.get(int(turned)) if turned else None
    return turned, None


@tool(
    id="rotate",
    section="image",
    title="Rotate & Flip",
    description="Rotate by any angle and/or flip horizontally or vertically.",
    settings=RotateSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: RotateSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.output_format(source.kind)
    angle, exact = _normalise(settings.angle)
    ctx.progress(5, "Rotating")
    # Only a plain left-right mirror reads the file top to bottom; turns and vertical flips jump around.
    streams = angle == 0 and not settings.vertical
    with vips.vips_errors():
        image = vips.load(source.path, source.kind, sequential=streams, all_pages=fmt.animated)

        def transform(frame: pyvips.Image) -> pyvips.Image:
            if exact is not None:
                frame = frame.rot(exact)
            elif angle:
                if fmt.alpha:
                    frame = vips.ensure_alpha(frame)
                frame = frame.rotate(
                    angle,
                    background=vips.background_for(frame, fmt),
                    interpolate=pyvips.Interpolate.new("bicubic"),
                )
            if settings.horizontal:
                frame = frame.fliphor()
            if settings.vertical:
                frame = frame.flipver()
            return frame

        image = vips.map_pages(image, transform) if fmt.animated else transform(image)
        ctx.check_cancelled()
        out = vips.save(image, vips.output_path(ctx, fmt.ext, "rotated"), fmt)
        result = {"width": image.width, "height": vips.page_height(image), "angle": angle}
    ctx.progress(100, "Done")
    return ToolResult([out], result)
