"""Convert Video: to MP4, MOV, MKV (H.264/AAC), AVI (H.264/MP3) or WebM (VP9/Opus) at a quality level."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media.ffmpeg import Quality, Speed
from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class ConvertVideoSettings(ToolSettings):
    format: Literal["mp4", "mov", "webm", "mkv", "avi"] = Field(
        "mp4", description="mp4, mov and mkv: H.264 + AAC; avi: H.264 + MP3; webm: VP9 + Opus"
    )
    quality: Quality = Field("balanced", description="high (larger files), balanced, or small (smaller files)")
    speed: Speed = Field(
        "balanced",
        description="Encoding speed at the same quality: fast (quicker, larger file), balanced, "
        "or thorough (slower, smaller file)",
    )


@tool(
    id="convert-video",
    section="video",
    title="Convert Video",
    description="Convert a video to MP4, MOV, WebM, MKV or AVI.",
    settings=ConvertVideoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
    formats=("mp4", "mov", "webm", "mkv", "avi"),
    produces=tuple(Produces(fmt, {"format": fmt}, preference=10) for fmt in ("mp4", "mov", "webm", "mkv", "avi")),
)
def run(ctx: ToolContext, settings: ConvertVideoSettings) -> ToolResult:
    return filter_video(
        ctx,
        [],
        suffix="converted",
        fmt=settings.format,
        quality=settings.quality,
        speed=settings.speed,
        message="Converting",
    )
