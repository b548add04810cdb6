"""Extract Audio: a video's soundtrack as MP3, WAV, M4A or OGG."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media.audio import filter_audio
from app.engine.media.video import VIDEO_INPUTS
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class ExtractAudioSettings(ToolSettings):
    format: Literal["mp3", "wav", "m4a", "ogg"] = Field("mp3", description="Output format (ogg: Vorbis)")


@tool(
    id="extract-audio",
    section="video",
    title="Extract Audio",
    description="Save a video's soundtrack as an MP3, WAV, M4A or OGG file.",
    settings=ExtractAudioSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
    produces=tuple(Produces(fmt, {"format": fmt}, preference=20) for fmt in ("mp3", "wav", "m4a", "ogg")),
)
def run(ctx: ToolContext, settings: ExtractAudioSettings) -> ToolResult:
    return filter_audio(ctx, [], suffix="audio", fmt=settings.format, message="Extracting audio")
