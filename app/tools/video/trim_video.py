"""Trim Video: keep the part between two timestamps, frame-accurate (re-encoded) or fast (keyframe cut)."""

from __future__ import annotations

from pydantic import Field, model_validator

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, filter_video, remux
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool


class TrimVideoSettings(ToolSettings):
    startS: float = Field(0, ge=0, description="Start of the kept part, in seconds")
    endS: float | None = Field(None, gt=0, description="End of the kept part, in seconds (empty = to the end)")
    precise: bool = Field(
        True, description="Frame-accurate cut (re-encodes); false cuts at keyframes without re-encoding (fast)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> TrimVideoSettings:
        if self.endS is not None and self.endS <= self.startS:
            raise ValueError("endS must be after startS")
        return self


@tool(
    id="trim-video",
    section="video",
    title="Trim Video",
    description="Cut a video down to the part between a start and an end time.",
    settings=TrimVideoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: TrimVideoSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    if info.duration and settings.startS >= info.duration:
        raise InputRejected(f"startS is past the end of the video ({info.duration:.2f} s)", 400, "INVALID_RANGE")
    end = min(settings.endS, info.duration) if settings.endS and info.duration else settings.endS or info.duration
    length = max(0.0, end - settings.startS)
    before = ["-ss", ffmpeg.seconds(settings.startS)] + (["-t", ffmpeg.seconds(length)] if length else [])
    if settings.precise:
        # Seeking before -i while re-encoding decodes from the previous keyframe and drops frames
        # up to the start: the cut lands on the exact frame.
        return filter_video(
            ctx, [], suffix="trimmed", before=before, out_duration=length, info=info, quality="high", message="Trimming"
        )
    # Stream copy can only start at a keyframe; the output starts at the one before startS.
    return remux(
        ctx,
        ["-map", "0", "-avoid_negative_ts", "make_zero"],
        suffix="trimmed",
        info=info,
        before=before,
        out_duration=length,
        message="Trimming",
    )
