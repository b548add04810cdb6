"""Auto Subtitles: a subtitle file (srt/vtt) for a video, from its speech, with Whisper on this server."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import speech
from app.engine.media.video import VIDEO_INPUTS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class AutoSubtitlesSettings(ToolSettings):
    language: speech.Language = Field("auto", description=speech.LANGUAGE_DESCRIPTION)
    format: Literal["srt", "vtt"] = Field("srt", description="SubRip (.srt) or WebVTT (.vtt) subtitles")


@tool(
    id="auto-subtitles",
    section="video",
    title="Auto Subtitles (AI)",
    description=(
        "Write subtitles for a video from its speech with Whisper, on this server. "
        "Burn or embed them with burn-subtitles or embed-subtitles."
    ),
    settings=AutoSubtitlesSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
    feature=speech.BUNDLE,
    preflight=lambda settings: speech.check_language(settings.language),
)
def run(ctx: ToolContext, settings: AutoSubtitlesSettings) -> ToolResult:
    return speech.run_tool(ctx, settings.language, settings.format)
