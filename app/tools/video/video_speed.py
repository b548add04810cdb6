"""Video Speed: faster or slower, with the sound's pitch kept or following the speed."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class VideoSpeedSettings(ToolSettings):
    factor: float = Field(2, ge=0.25, le=4, description="Speed factor: 2 plays twice as fast, 0.5 half as fast")
    keepPitch: bool = Field(True, description="Keep voices natural (true) or let the pitch follow the speed")


@tool(
    id="video-speed",
    section="video",
    title="Video Speed",
    description="Speed a video up or slow it down, with or without keeping the audio's pitch.",
    settings=VideoSpeedSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: VideoSpeedSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    factor = settings.factor
    audio: list[str] = []
    if info.audio is not None:
        if settings.keepPitch:
            audio = ffmpeg.atempo_chain(factor)
        else:
            # Play the samples at a different rate (pitch moves with speed), then resample back.
            rate = info.audio.sample_rate or 48000
            audio = [f"asetrate={rate * factor:.0f}", f"aresample={rate}"]
    return filter_video(
        ctx,
        [f"setpts=PTS/{factor}"],
        audio_filters=audio,
        suffix="speed",
        info=info,
        out_duration=info.duration / factor if info.duration else None,
        message="Changing speed",
    )
