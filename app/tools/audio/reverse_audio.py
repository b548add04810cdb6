"""Reverse Audio: play it backwards."""

from __future__ import annotations

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.tool import InputRejected, Inputs, NoSettings, ToolContext, ToolResult, tool

# areverse holds the whole decoded audio in memory (about 23 MB per stereo minute at 48 kHz).
MAX_REVERSE_S = 30 * 60


@tool(
    id="reverse-audio",
    section="audio",
    title="Reverse Audio",
    description="Reverse audio so it plays backwards (up to 30 minutes).",
    settings=NoSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    if info.duration > MAX_REVERSE_S:
        raise InputRejected("Audio longer than 30 minutes cannot be reversed", 400, "MEDIA_TOO_LONG")
    return filter_audio(ctx, ["areverse"], suffix="reversed", info=info, message="Reversing")
