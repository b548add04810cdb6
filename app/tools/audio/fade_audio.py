"""Fade Audio: fade in from silence at the start and/or out to silence at the end."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class FadeSettings(ToolSettings):
    fadeInS: float = Field(2, ge=0, le=30, description="Fade-in length at the start, in seconds")
    fadeOutS: float = Field(2, ge=0, le=30, description="Fade-out length at the end, in seconds")


@tool(
    id="fade-audio",
    section="audio",
    title="Fade Audio",
    description="Fade audio in at the start and out at the end.",
    settings=FadeSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: FadeSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    duration = info.duration
    # Fades longer than the file would start before it or overlap: cap each at the whole length.
    fade_in = min(settings.fadeInS, duration) if duration else settings.fadeInS
    fade_out = min(settings.fadeOutS, duration) if duration else 0
    filters = []
    if fade_in > 0:
        filters.append(f"afade=t=in:st=0:d={fade_in:.3f}")
    if fade_out > 0:
        filters.append(f"afade=t=out:st={duration - fade_out:.3f}:d={fade_out:.3f}")
    return filter_audio(ctx, filters, suffix="faded", info=info, message="Fading")
