"""Normalize Audio: EBU R128 loudness to -16 LUFS, measured first, then applied with the measurement."""

from __future__ import annotations

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, TARGET_LUFS, filter_audio, loudnorm_filter, measure_loudness
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool


@tool(
    id="normalize-audio",
    section="audio",
    title="Normalize Audio",
    description="Bring audio to -16 LUFS (EBU R128) with a measured two-pass loudness normalisation.",
    settings=NoSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    stream = ffmpeg.require_audio(info)
    # Single-pass loudnorm guesses as it goes; measuring the whole file first gives an exact, linear gain.
    measured = measure_loudness(ctx, ctx.input, info.duration, span=(0, 50))
    result = filter_audio(
        ctx,
        [loudnorm_filter(measured, stream)],
        suffix="normalized",
        info=info,
        span=(50, 100),
        message="Normalizing",
    )
    result.data.update({"inputLufs": measured.input_i, "targetLufs": TARGET_LUFS})
    return result
