"""Compress Video: smaller files through a higher CRF and, optionally, a lower resolution."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.ffmpeg import Speed
from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

# (H.264 CRF, audio kbit/s): each step roughly halves the bitrate of the one before.
_LEVELS = {"light": (23, 128), "balanced": (28, 96), "strong": (32, 64)}
_HEIGHTS = {"1080p": 1080, "720p": 720, "480p": 480}


class CompressVideoSettings(ToolSettings):
    quality: Literal["light", "balanced", "strong"] = Field("balanced", description="How hard to compress")
    resolution: Literal["original", "1080p", "720p", "480p"] = Field(
        "original", description="Scale down to this height (never up); original keeps the size"
    )
    speed: Speed = Field(
        "balanced",
        description="Encoding speed at the same quality: fast (quicker, larger file), balanced, "
        "or thorough (slower, smaller file)",
    )


@tool(
    id="compress-video",
    section="video",
    title="Compress Video",
    description="Make a video file smaller, optionally lowering its resolution.",
    settings=CompressVideoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: CompressVideoSettings) -> ToolResult:
    crf, kbps = _LEVELS[settings.quality]
    info = ffmpeg.probe_input(ctx.input)
    filters = []
    height = _HEIGHTS.get(settings.resolution)
    if height and ffmpeg.require_video(info).height > height:
        filters.append(f"scale=-2:{height}")
    fmt = ffmpeg.video_format_for(ctx.input.kind)
    result = filter_video(
        ctx,
        filters,
        suffix="compressed",
        quality=crf if fmt != "webm" else crf + 8,
        speed=settings.speed,
        audio_kbps=kbps,
        info=info,
        message="Compressing",
    )
    result.data["ratio"] = round(result.outputs[0].stat().st_size / max(1, ctx.input.size), 3)
    return result
