"""Reverse Video: play backwards (up to 5 minutes), reversed in chunks so memory stays bounded."""

from __future__ import annotations

import math
import shutil

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, describe
from app.engine.tool import InputRejected, Inputs, NoSettings, ToolContext, ToolResult, tool

MAX_REVERSE_S = 5 * 60
# ffmpeg's reverse filter holds every frame of its input decoded; chunks keep that near this budget.
_CHUNK_BYTES = 400_000_000


@tool(
    id="reverse-video",
    section="video",
    title="Reverse Video",
    description="Reverse a video (and its sound) so it plays backwards; up to 5 minutes.",
    settings=NoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    stream = ffmpeg.require_video(info)
    if info.duration > MAX_REVERSE_S:
        raise InputRejected("Videos longer than 5 minutes cannot be reversed", 400, "MEDIA_TOO_LONG")
    fmt = ffmpeg.video_format_for(src.kind)
    codec = ffmpeg.video_codec(fmt, "high")
    frame_bytes = max(1, stream.width * stream.height) * 1.5
    chunk_s = min(30.0, max(1.0, _CHUNK_BYTES / frame_bytes / (stream.fps or 30)))
    count = max(1, math.ceil(info.duration / chunk_s)) if info.duration else 1
    parts_dir = ctx.workdir / "chunks"
    parts_dir.mkdir(parents=True, exist_ok=True)
    audio = info.audio is not None
    parts = []
    # The last chunk reversed comes first in the output.
    for n, index in enumerate(reversed(range(count))):
        part = parts_dir / f"{n:04d}.mkv"
        start = index * chunk_s
        args = [*codec.global_args, *ffmpeg.inp(src, "-ss", ffmpeg.seconds(start), "-t", ffmpeg.seconds(chunk_s))]
        args += ["-map", "0:v:0", "-vf", codec.chain(["reverse"]), *codec.codec_args]
        args += ["-map", "0:a:0", "-af", "areverse", "-c:a", "pcm_s16le"] if audio else ["-an"]
        span = (90.0 * n / count, 90.0 * (n + 1) / count)
        ffmpeg.run(
            [*args, "-f", "matroska", ffmpeg.output(part)],
            ctx,
            min(chunk_s, info.duration or chunk_s),
            span=span,
            message="Reversing",
        )
        parts.append(ffmpeg.require_output(part))
    out = ctx.output_path(ffmpeg.output_name(src, "reversed", fmt))
    args = []
    for part in parts:
        args += ffmpeg.input_args(part, "mkv")
    labels = "".join(f"[{i}:v][{i}:a]" if audio else f"[{i}:v]" for i in range(len(parts)))
    graph = f"{labels}concat=n={len(parts)}:v=1:a={1 if audio else 0}"
    if len(parts) > 1:
        # The chunks are already encoded; joining them re-encodes once more (concat needs decoded frames).
        args += ["-filter_complex", graph + ("[v][a]" if audio else "[v]"), "-map", "[v]"]
        args += ["-map", "[a]"] if audio else []
        args += [*codec.codec_args]
    else:
        args += ["-map", "0:v", "-c:v", "copy"] + (["-map", "0:a"] if audio else [])
    args += ffmpeg.audio_codec_for_video(fmt) if audio else ["-an"]
    ffmpeg.run(
        [*args, *ffmpeg.container_args(fmt), ffmpeg.output(out)], ctx, info.duration, span=(90, 100), message="Joining"
    )
    shutil.rmtree(parts_dir, ignore_errors=True)
    return ToolResult([ffmpeg.require_output(out)], describe(out, fmt))
