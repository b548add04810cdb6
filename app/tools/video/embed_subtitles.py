"""Embed Subtitles: add an SRT/VTT file as a selectable subtitle track, tagged with its language."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, describe
from app.engine.tool import ExtraPart, Inputs, ToolContext, ToolResult, ToolSettings, tool

# Subtitle codec per output container: MP4/MOV only take 3GPP timed text.
_CODECS = {"mp4": "mov_text", "mov": "mov_text", "webm": "webvtt", "mkv": "srt"}
_TEXT = {"mov_text", "subrip", "srt", "webvtt", "ass", "ssa", "text"}


class EmbedSubtitlesSettings(ToolSettings):
    language: str = Field(
        "eng", pattern=r"^[a-z]{3}$", description="ISO 639-2/B language code of the captions, e.g. eng, ger, fre, spa"
    )
    title: str | None = Field(None, max_length=100, description="Track name shown by players (optional)")


@tool(
    id="embed-subtitles",
    section="video",
    title="Embed Subtitles",
    description="Add captions from an SRT or WebVTT file (the 'subtitles' part) as a subtitle track.",
    settings=EmbedSubtitlesSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS, extra=(ExtraPart("subtitles", ("subtitle",), description="SRT or VTT"),)),
    long=True,
)
def run(ctx: ToolContext, settings: EmbedSubtitlesSettings) -> ToolResult:
    src, subs = ctx.input, ctx.extra["subtitles"]
    info = ffmpeg.probe_input(src)
    ffmpeg.require_video(info)
    ext = src.kind if src.kind in _CODECS else "mkv"
    # Existing text tracks are kept (converted to the container's codec) and ours comes after them;
    # picture-based tracks can't become text, so they are left out.
    keep = all(sub.codec in _TEXT for sub in info.subtitles)
    new_index = len(info.subtitles) if keep else 0
    out = ctx.output_path(ffmpeg.output_name(src, "subtitled", ext))
    args = [*ffmpeg.inp(src), *ffmpeg.inp(subs), "-map", "0:v", "-map", "0:a?"]
    if keep:
        args += ["-map", "0:s?"]
    args += ["-map", "1:0", "-c:v", "copy", "-c:a", "copy", "-c:s", _CODECS[ext]]
    args += [f"-metadata:s:s:{new_index}", f"language={settings.language}"]
    if settings.title:
        args += [f"-metadata:s:s:{new_index}", f"title={settings.title}"]
    muxer = {"mkv": "matroska"}.get(ext, ext)
    args += ["-f", muxer] + (["-movflags", "+faststart"] if ext in ("mp4", "mov") else [])
    ffmpeg.run([*args, ffmpeg.output(out)], ctx, info.duration, message="Embedding subtitles")
    data = describe(ffmpeg.require_output(out), ext)
    data["language"] = settings.language
    return ToolResult([out], data)
