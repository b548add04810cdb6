"""Aspect Pad: fit a video into another aspect ratio with coloured bars (letterbox or pillarbox)."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import RATIOS, VIDEO_INPUTS, Target, display_size, filter_video, padded_size
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class AspectPadSettings(ToolSettings):
    target: Target = Field("16:9", description="Aspect ratio of the result")
    color: str = Field("#000000", pattern=r"^#?[0-9a-fA-F]{6}$", description="Colour of the bars (hex)")


@tool(
    id="aspect-pad",
    section="video",
    title="Aspect Pad",
    description="Pad a video to 16:9, 9:16, 1:1, 4:3 or 3:4 with coloured bars.",
    settings=AspectPadSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: AspectPadSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    width, height = padded_size(*display_size(ffmpeg.require_video(info)), RATIOS[settings.target])
    pad = f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color={ffmpeg.color(settings.color)}"
    # setsar=1: square pixels, so the padded frame really shows at the target ratio.
    return filter_video(ctx, [pad, "setsar=1"], suffix="padded", info=info, message="Padding")
