"""Extract Subtitles: a video's first text subtitle track as an SRT file."""

from __future__ import annotations

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS
from app.engine.tool import InputRejected, Inputs, NoSettings, ToolContext, ToolFailure, ToolResult, tool

# Picture-based subtitles (DVD, Blu-ray) would need OCR to become text.
_BITMAP = {"dvd_subtitle", "hdmv_pgs_subtitle", "dvb_subtitle", "xsub"}


@tool(
    id="extract-subtitles",
    section="video",
    title="Extract Subtitles",
    description="Save a video's subtitle track as an SRT file.",
    settings=NoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    text = [s for s in info.subtitles if s.codec not in _BITMAP]
    if not text:
        if info.subtitles:
            raise ToolFailure("the subtitles are pictures (DVD/Blu-ray style) and cannot be saved as text")
        raise InputRejected("The video has no subtitle track", 400, "NO_SUBTITLE_STREAM")
    stream = text[0]
    out = ctx.output_path(f"{src.stem}{'.' + stream.language if stream.language else ''}.srt")
    args = [*ffmpeg.inp(src), "-map", f"0:{stream.index}", "-c:s", "srt", "-f", "srt", ffmpeg.output(out)]
    ffmpeg.run(args, ctx, info.duration, message="Extracting subtitles")
    return ToolResult(
        [ffmpeg.require_output(out, "the subtitle track is empty")],
        {"language": stream.language or None, "codec": stream.codec, "tracks": len(text)},
    )
