"""Blur Pad: fit a video into another aspect ratio over a blurred, enlarged copy of itself."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import RATIOS, VIDEO_INPUTS, Target, display_size, filter_video, padded_size
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class BlurPadSettings(ToolSettings):
    target: Target = Field("9:16", description="Aspect ratio of the result")
    blur: int = Field(20, ge=2, le=50, description="Strength of the background blur")


@tool(
    id="blur-pad",
    section="video",
    title="Blur Pad",
    description="Fit a video into 16:9, 9:16, 1:1, 4:3 or 3:4 over a blurred copy of itself (no black bars).",
    settings=BlurPadSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: BlurPadSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    width, height = padded_size(*display_size(ffmpeg.require_video(info)), RATIOS[settings.target])
    # One -vf chain holding a small graph: the background is the frame scaled to cover the canvas and
    # blurred (gblur has no radius limit, unlike boxblur on small chroma planes); the frame goes on top.
    chain = (
        f"split[main][back];[back]scale={width}:{height}:force_original_aspect_ratio=increase,"
        f"crop={width}:{height},gblur=sigma={settings.blur}[bg];[bg][main]overlay=(W-w)/2:(H-h)/2,setsar=1"
    )
    return filter_video(ctx, [chain], suffix="blurpad", info=info, message="Padding")
