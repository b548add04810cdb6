"""Shared steps of the video tools: re-encode one video through filters, remux without re-encoding,
target aspect ratios, and what a result reports about its output."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from app.engine.media import ffmpeg
from app.engine.tool import ToolContext, ToolResult

VIDEO_INPUTS = ("video",)

# Stream copy keeps the input's container (its codecs are known to fit); these are its muxer names.
COPY_MUXERS: dict[str, str] = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska", "avi": "avi"}

Target = Literal["16:9", "9:16", "1:1", "4:3", "3:4"]
RATIOS: dict[str, Fraction] = {
    "16:9": Fraction(16, 9),
    "9:16": Fraction(9, 16),
    "1:1": Fraction(1, 1),
    "4:3": Fraction(4, 3),
    "3:4": Fraction(3, 4),
}


def filter_video(
    ctx: ToolContext,
    filters: Sequence[str],
    *,
    suffix: str,
    audio_filters: Sequence[str] = (),
    fmt: str | None = None,
    quality: ffmpeg.Quality | int = "balanced",
    speed: ffmpeg.Speed = "balanced",
    keep_audio: bool = True,
    audio_kbps: int = 128,
    before: Sequence[str] = (),
    after: Sequence[str] = (),
    out_duration: float | None = None,
    info: ffmpeg.MediaInfo | None = None,
    message: str = "Processing",
    span: tuple[float, float] = (0.0, 100.0),
    cwd: Path | None = None,
) -> ToolResult:
    """Re-encodes the first video stream (and the first audio stream, when kept) through filters."""
    src = ctx.input
    info = info or ffmpeg.probe_input(src)
    ffmpeg.require_video(info)
    fmt = fmt or ffmpeg.video_format_for(src.kind)
    codec = ffmpeg.video_codec(fmt, quality, speed)
    out = ctx.output_path(ffmpeg.output_name(src, suffix, fmt))
    audio = keep_audio and info.audio is not None
    args = [*codec.global_args, *ffmpeg.inp(src, *before), "-map", "0:v:0"]
    if audio:
        args += ["-map", "0:a:0"]
        if audio_filters:
            args += ["-af", ",".join(audio_filters)]
    args += [*after, *ffmpeg.video_output_args(fmt, codec, filters, audio=audio, kbps=audio_kbps)]
    ffmpeg.run([*args, ffmpeg.output(out)], ctx, out_duration or info.duration, message=message, span=span, cwd=cwd)
    return ToolResult([ffmpeg.require_output(out)], describe(out, fmt))


def remux(
    ctx: ToolContext,
    args: Sequence[str],
    *,
    suffix: str,
    info: ffmpeg.MediaInfo | None = None,
    before: Sequence[str] = (),
    out_duration: float | None = None,
    message: str = "Rewriting",
    muxer: str | None = None,
    ext: str | None = None,
) -> ToolResult:
    """Copies streams into the input's container (no re-encoding): `args` pick maps and metadata."""
    src = ctx.input
    info = info or ffmpeg.probe_input(src)
    ext = ext or src.kind
    muxer = muxer or COPY_MUXERS.get(src.kind, "matroska")
    out = ctx.output_path(ffmpeg.output_name(src, suffix, ext))
    cmd = [*ffmpeg.inp(src, *before), *args, "-c", "copy", "-f", muxer]
    if muxer in ("mp4", "mov"):
        cmd += ["-movflags", "+faststart"]
    ffmpeg.run([*cmd, ffmpeg.output(out)], ctx, out_duration or info.duration, message=message)
    return ToolResult([ffmpeg.require_output(out)], describe(out, ext))


def describe(out: Path, fmt: str) -> dict[str, Any]:
    """Size, length, frame rate and sound of an output, read back with ffprobe."""
    kind = {"gif": "gif", "webp": "webp"}.get(fmt, fmt)
    try:
        info = ffmpeg.probe(out, kind if kind in ffmpeg.DEMUXERS else "mkv")
    except ffmpeg.ProbeFailed:
        return {"format": fmt}
    data: dict[str, Any] = {"format": fmt, "duration": round(info.duration, 3), "hasAudio": info.audio is not None}
    if info.video is not None:
        data.update(width=info.video.width, height=info.video.height, fps=round(info.video.fps, 3))
    return data


def display_size(stream: ffmpeg.Stream) -> tuple[int, int]:
    """Width and height as shown: ffmpeg applies rotation metadata before our filters see the frames."""
    if abs(stream.rotation) % 180 == 90:
        return stream.height, stream.width
    return stream.width, stream.height


def padded_size(width: int, height: int, ratio: Fraction) -> tuple[int, int]:
    """The smallest even canvas of `ratio` that holds width x height."""
    if Fraction(width, height) > ratio:
        return ffmpeg.even(width), ffmpeg.even(width / ratio)
    return ffmpeg.even(height * ratio), ffmpeg.even(height)
