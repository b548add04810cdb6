"""Pitch Shift: higher or lower by semitones, keeping the tempo."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class PitchSettings(ToolSettings):
    semitones: float = Field(2, ge=-12, le=12, description="Semitones up (positive) or down (negative)")


@tool(
    id="pitch-shift",
    section="audio",
    title="Pitch Shift",
    description="Shift the pitch of audio up or down by semitones without changing its speed.",
    settings=PitchSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: PitchSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    rate = ffmpeg.require_audio(info).sample_rate or 44100
    ratio = 2 ** (settings.semitones / 12)
    if not settings.semitones:
        filters: list[str] = []
    elif ffmpeg.has_filter("rubberband"):
        # Rubber Band shifts formant-aware and sounds far better than resampling.
        filters = [f"rubberband=pitch={ratio:.6f}:pitchq=quality"]
    else:
        # Play faster by resampling (pitch and tempo up), then stretch the tempo back.
        filters = [f"asetrate={rate * ratio:.0f}", f"aresample={rate}", *ffmpeg.atempo_chain(1 / ratio)]
    return filter_audio(ctx, filters, suffix="pitched", info=info, message="Shifting pitch")
