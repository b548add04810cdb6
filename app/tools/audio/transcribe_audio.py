"""Transcribe Audio: speech to text (txt) or timed subtitles (srt/vtt) with Whisper, on this server."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import speech
from app.engine.media.audio import AUDIO_INPUTS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class TranscribeSettings(ToolSettings):
    language: speech.Language = Field("auto", description=speech.LANGUAGE_DESCRIPTION)
    outputFormat: Literal["txt", "srt", "vtt"] = Field(
        "txt", description="Plain text, or SubRip/WebVTT subtitles with timings"
    )


@tool(
    id="transcribe-audio",
    section="audio",
    title="Transcribe Audio (AI)",
    description="Turn speech in audio (or a video's sound) into text or subtitles with Whisper, on this server.",
    settings=TranscribeSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
    feature=speech.BUNDLE,
    preflight=lambda settings: speech.check_language(settings.language),
)
def run(ctx: ToolContext, settings: TranscribeSettings) -> ToolResult:
    return speech.run_tool(ctx, settings.language, settings.outputFormat)
