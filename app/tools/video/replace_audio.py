"""Replace Audio: put another soundtrack under a video (the picture is copied, not re-encoded)."""

from __future__ import annotations

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS
from app.engine.media.video import COPY_MUXERS, VIDEO_INPUTS, describe
from app.engine.tool import ExtraPart, Inputs, NoSettings, ToolContext, ToolResult, tool


@tool(
    id="replace-audio",
    section="video",
    title="Replace Audio",
    description="Replace a video's soundtrack with an uploaded audio file (sent as the 'audio' part).",
    settings=NoSettings,
    inputs=Inputs(
        kinds=VIDEO_INPUTS,
        extra=(ExtraPart("audio", AUDIO_INPUTS, description="The new soundtrack (audio, or a video's sound)"),),
    ),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    src, sound = ctx.input, ctx.extra["audio"]
    info = ffmpeg.probe_input(src)
    ffmpeg.require_video(info)
    ffmpeg.require_audio(ffmpeg.probe_input(sound), "the audio file")
    # The container stays; AVI can't carry modern audio well, so it becomes Matroska.
    ext = src.kind if src.kind in ("mp4", "mov", "webm", "mkv") else "mkv"
    out = ctx.output_path(ffmpeg.output_name(src, "new_audio", ext))
    args = [*ffmpeg.inp(src), *ffmpeg.inp(sound), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy"]
    args += ffmpeg.audio_codec_for_video("webm" if ext == "webm" else "mp4", 160)
    # The video sets the length: longer audio is cut, shorter audio leaves silence at the end.
    if info.duration:
        args += ["-t", ffmpeg.seconds(info.duration)]
    args += ["-f", COPY_MUXERS[ext]] + (["-movflags", "+faststart"] if ext in ("mp4", "mov") else [])
    ffmpeg.run([*args, ffmpeg.output(out)], ctx, info.duration, message="Replacing audio")
    return ToolResult([ffmpeg.require_output(out)], describe(out, ext))
