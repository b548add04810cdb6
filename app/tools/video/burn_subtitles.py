"""Burn Subtitles: draw an SRT/VTT file's captions into the picture (they can't be turned off)."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import ExtraPart, Inputs, ToolContext, ToolResult, ToolSettings, tool


class BurnSubtitlesSettings(ToolSettings):
    fontSize: int = Field(24, ge=8, le=72, description="Caption size (in the subtitle renderer's 288-line units)")


@tool(
    id="burn-subtitles",
    section="video",
    title="Burn Subtitles",
    description="Burn captions from an SRT or WebVTT file (the 'subtitles' part) into a video.",
    settings=BurnSubtitlesSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS, extra=(ExtraPart("subtitles", ("subtitle",), description="SRT or VTT"),)),
    long=True,
)
def run(ctx: ToolContext, settings: BurnSubtitlesSettings) -> ToolResult:
    subs = ctx.extra["subtitles"]
    info = ffmpeg.probe_input(ctx.input)
    ffmpeg.require_video(info)
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    ass = ctx.workdir / "captions.ass"
    # Convert with the forced srt/webvtt demuxer first; the renderer then reads only our own ASS file
    # (by a relative name, so no path escaping in the filter). DejaVu Sans comes with the image.
    ffmpeg.run([*ffmpeg.inp(subs), "-c:s", "ass", "-f", "ass", ffmpeg.output(ass)], ctx, None, span=(0, 5))
    ffmpeg.require_output(ass, "the subtitle file has no captions")
    style = f"FontName=DejaVu Sans,FontSize={settings.fontSize},Outline=1,Shadow=0,MarginV=12"
    burn = f"subtitles=filename=captions.ass:force_style='{style}'"
    try:
        return filter_video(
            ctx, [burn], suffix="subtitled", info=info, span=(5, 100), message="Burning subtitles", cwd=ctx.workdir
        )
    finally:
        ass.unlink(missing_ok=True)
