"""Trim Audio: keep the part between two timestamps."""

from __future__ import annotations

from pydantic import Field, model_validator

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool


class TrimAudioSettings(ToolSettings):
    startS: float = Field(0, ge=0, description="Start of the kept part, in seconds")
    endS: float | None = Field(None, gt=0, description="End of the kept part, in seconds (empty = to the end)")

    @model_validator(mode="after")
    def _ordered(self) -> TrimAudioSettings:
        if self.endS is not None and self.endS <= self.startS:
            raise ValueError("endS must be after startS")
        return self


@tool(
    id="trim-audio",
    section="audio",
    title="Trim Audio",
    description="Cut audio down to the part between a start and an end time.",
    settings=TrimAudioSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: TrimAudioSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    if info.duration and settings.startS >= info.duration:
        raise InputRejected(f"startS is past the end of the audio ({info.duration:.2f} s)", 400, "INVALID_RANGE")
    end = min(settings.endS or info.duration, info.duration or settings.endS or 0)
    length = end - settings.startS if end else 0
    # -ss before -i seeks by decoding for audio, so the cut is sample-accurate and fast.
    before = ["-ss", ffmpeg.seconds(settings.startS)] + (["-t", ffmpeg.seconds(length)] if length > 0 else [])
    return filter_audio(
        ctx, [], suffix="trimmed", before=before, out_duration=length or None, info=info, message="Trimming"
    )
