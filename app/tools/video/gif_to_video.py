"""GIF to Video: an animated GIF as MP4, WebM or MOV (much smaller, plays everywhere)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import describe
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class GifToVideoSettings(ToolSettings):
    format: Literal["mp4", "webm", "mov"] = Field("mp4", description="mp4 or mov (H.264), or webm (VP9)")


@tool(
    id="gif-to-video",
    section="video",
    title="GIF to Video",
    description="Convert an animated GIF to an MP4, WebM or MOV video.",
    settings=GifToVideoSettings,
    inputs=Inputs(kinds=("gif",)),
    long=True,
    produces=tuple(Produces(fmt, {"format": fmt}, preference=20) for fmt in ("mp4", "webm", "mov")),
)
def run(ctx: ToolContext, settings: GifToVideoSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    ffmpeg.require_video(info)
    codec = ffmpeg.video_codec(settings.format, "high")
    out = ctx.output_path(ffmpeg.output_name(src, "video", settings.format))
    # GIFs have odd sizes and transparency; even sides for yuv420p, transparency flattened onto white.
    chain = codec.chain(
        [
            "scale=trunc(iw/2)*2:trunc(ih/2)*2",
            "split[fg][bgsrc];[bgsrc]drawbox=c=white:t=fill[bg];[bg][fg]overlay=format=auto",
        ]
    )
    args = [*codec.global_args, *ffmpeg.inp(src), "-map", "0:v:0", "-vf", chain, *codec.codec_args, "-an"]
    ffmpeg.run(
        [*args, *ffmpeg.container_args(settings.format), ffmpeg.output(out)], ctx, info.duration, message="Converting"
    )
    return ToolResult([ffmpeg.require_output(out)], describe(out, settings.format))
