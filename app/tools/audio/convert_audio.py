"""Convert Audio: to MP3, WAV, OGG (Vorbis), FLAC or M4A (AAC) at a chosen bitrate."""

from __future__ import annotations

from pydantic import Field

from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.media.ffmpeg import AUDIO_FORMATS, AudioFormat
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class ConvertAudioSettings(ToolSettings):
    format: AudioFormat = Field("mp3", description="Output format: mp3, wav, ogg (Vorbis), flac or m4a (AAC)")
    bitrateKbps: int = Field(192, ge=32, le=320, description="Bitrate of lossy formats (mp3, ogg, m4a), in kbit/s")


@tool(
    id="convert-audio",
    section="audio",
    title="Convert Audio",
    description="Convert audio (or a video's sound) to MP3, WAV, OGG, FLAC or M4A.",
    settings=ConvertAudioSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
    formats=("mp3", "wav", "ogg", "flac", "m4a", "aac"),
    produces=tuple(Produces(fmt, {"format": fmt}, preference=10) for fmt in AUDIO_FORMATS),
)
def run(ctx: ToolContext, settings: ConvertAudioSettings) -> ToolResult:
    return filter_audio(
        ctx, [], suffix="converted", fmt=settings.format, kbps=settings.bitrateKbps, message="Converting"
    )
