"""Convert Video: to MP4 or MOV (H.264/AAC) or WebM (VP9/Opus) at a quality level."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media.ffmpeg import Quality
from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class ConvertVideoSettings(ToolSettings):
    format: Literal["mp4", "mov", "webm"] = Field("mp4", description="mp4 and mov: H.264 + AAC; webm: VP9 + Opus")
    quality: Quality = Field("balanced", description="high (larger files), balanced, or small (smaller files)")


@tool(
    id="convert-video",
    section="video",
    title="Convert Video",
    description="Convert a video to MP4, MOV or WebM.",
    settings=ConvertVideoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
    formats=("mp4", "mov", "webm", "mkv", "avi"),
)
def run(ctx: ToolContext, settings: ConvertVideoSettings) -> ToolResult:
    return filter_video(
        ctx, [], suffix="converted", fmt=settings.format, quality=settings.quality, message="Converting"
    )
