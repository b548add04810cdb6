"""Audio Metadata: read the tags, strip them, or set title/artist/album, without re-encoding."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.sniff import AUDIO_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

_MUXER = {"mp3": "mp3", "wav": "wav", "ogg": "ogg", "flac": "flac", "m4a": "ipod"}
# Tags describing the file's encoding rather than its content: not worth reporting.
_TECHNICAL = {
    "encoder",
    "major_brand",
    "minor_version",
    "compatible_brands",
    "creation_time",
    "handler_name",
    "vendor_id",
}


class AudioMetadataSettings(ToolSettings):
    strip: bool = Field(False, description="Remove every tag and embedded cover art first")
    title: str | None = Field(None, max_length=500, description="Set the title")
    artist: str | None = Field(None, max_length=500, description="Set the artist")
    album: str | None = Field(None, max_length=500, description="Set the album")


def _tags(info: ffmpeg.MediaInfo) -> dict[str, str]:
    # Ogg and FLAC keep Vorbis comments on the audio stream; the rest on the file.
    tags = dict(info.audio.tags) if info.audio else {}
    tags.update(info.tags)
    return {k: v for k, v in tags.items() if k not in _TECHNICAL}


@tool(
    id="audio-metadata",
    section="audio",
    title="Audio Metadata",
    description="Read an audio file's tags, strip them, or set title, artist and album (no re-encoding).",
    settings=AudioMetadataSettings,
    inputs=Inputs(kinds=AUDIO_KINDS),
)
def run(ctx: ToolContext, settings: AudioMetadataSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    ffmpeg.require_audio(info)
    before = _tags(info)
    out = ctx.output_path(ffmpeg.output_name(src, "tagged", src.kind))
    args = [*ffmpeg.inp(src)]
    if settings.strip:
        args += ["-map", "0:a", "-map_metadata", "-1", "-map_metadata:s:a", "-1"]
    else:
        args += ["-map", "0"]
    target = "-metadata:s:a:0" if src.kind in ("ogg",) else "-metadata"
    for key in ("title", "artist", "album"):
        value = getattr(settings, key)
        if value is not None:
            args += [target, f"{key}={value}"]
    args += ["-c", "copy", "-f", _MUXER[src.kind]]
    if src.kind == "mp3":
        args += ["-id3v2_version", "3"]
    if src.kind == "m4a":
        args += ["-movflags", "+faststart"]
    ffmpeg.run([*args, ffmpeg.output(out)], ctx, info.duration, message="Writing tags")
    after = _tags(ffmpeg.probe(ffmpeg.require_output(out), src.kind))
    return ToolResult([out], {"tags": before, "newTags": after})
