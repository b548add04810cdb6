"""Normalize Audio (video): the soundtrack to -16 LUFS (EBU R128, measured two-pass); picture copied."""

from __future__ import annotations

from app.engine.media import ffmpeg
from app.engine.media.audio import TARGET_LUFS, loudnorm_filter, measure_loudness
from app.engine.media.video import VIDEO_INPUTS, describe
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool


@tool(
    id="video-loudnorm",
    section="video",
    title="Normalize Audio",
    description="Normalize a video's loudness to -16 LUFS (EBU R128) without re-encoding the picture.",
    settings=NoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    ffmpeg.require_video(info)
    stream = ffmpeg.require_audio(info)
    measured = measure_loudness(ctx, src, info.duration, span=(0, 50))
    fmt = ffmpeg.video_format_for(src.kind)
    # The picture is copied when the output container takes its codec; otherwise re-encoded.
    copy_ok = (fmt == "webm") == (info.video.codec in ("vp8", "vp9", "av1")) if info.video else False
    video = ["-c:v", "copy"] if copy_ok else list(ffmpeg.video_codec(fmt).codec_args) + ["-pix_fmt", "yuv420p"]
    out = ctx.output_path(ffmpeg.output_name(src, "normalized", fmt))
    args = [*ffmpeg.inp(src), "-map", "0:v:0", "-map", "0:a:0", *video, "-af", loudnorm_filter(measured, stream)]
    args += [*ffmpeg.audio_codec_for_video(fmt, 160), *ffmpeg.container_args(fmt), ffmpeg.output(out)]
    ffmpeg.run(args, ctx, info.duration, span=(50, 100), message="Normalizing")
    data = describe(ffmpeg.require_output(out), fmt)
    data.update(inputLufs=measured.input_i, targetLufs=TARGET_LUFS)
    return ToolResult([out], data)
