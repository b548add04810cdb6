"""Audio Speed: faster or slower without changing the pitch."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class AudioSpeedSettings(ToolSettings):
    factor: float = Field(1.5, ge=0.25, le=4, description="Speed factor: 2 plays twice as fast, 0.5 half as fast")


@tool(
    id="audio-speed",
    section="audio",
    title="Audio Speed",
    description="Speed audio up or slow it down, keeping its pitch.",
    settings=AudioSpeedSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: AudioSpeedSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    return filter_audio(
        ctx,
        ffmpeg.atempo_chain(settings.factor),
        suffix="speed",
        info=info,
        out_duration=info.duration / settings.factor if info.duration else None,
        message="Changing speed",
    )
