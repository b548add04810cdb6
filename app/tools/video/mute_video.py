"""Mute Video: drop the sound, keeping the picture untouched (no re-encoding)."""

from __future__ import annotations

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, remux
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool


@tool(
    id="mute-video",
    section="video",
    title="Mute Video",
    description="Remove the audio track from a video without re-encoding the picture.",
    settings=NoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    ffmpeg.require_video(info)
    return remux(ctx, ["-map", "0:v", "-map", "0:s?", "-an"], suffix="muted", info=info, message="Muting")
