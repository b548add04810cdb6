"""Video to GIF: an animated GIF with a palette made for the clip (no banding, small files)."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS
from app.engine.tool import InputRejected, Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class VideoToGifSettings(ToolSettings):
    fps: int = Field(10, ge=1, le=30, description="Frames per second")
    width: int = Field(480, ge=16, le=1920, description="Width in pixels (height follows the aspect ratio)")
    startS: float = Field(0, ge=0, description="Where the GIF starts in the video, in seconds")
    durationS: float = Field(5, gt=0, le=60, description="Length of the GIF, in seconds (at most 60)")


@tool(
    id="video-to-gif",
    section="video",
    title="Video to GIF",
    description="Turn part of a video into an animated GIF with an optimised palette.",
    settings=VideoToGifSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
    produces=(Produces("gif", preference=20),),
)
def run(ctx: ToolContext, settings: VideoToGifSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    stream = ffmpeg.require_video(info)
    if info.duration and settings.startS >= info.duration:
        raise InputRejected(f"startS is past the end of the video ({info.duration:.2f} s)", 400, "INVALID_RANGE")
    length = min(settings.durationS, info.duration - settings.startS) if info.duration else settings.durationS
    width = min(settings.width, stream.width or settings.width)
    # One palette for the whole clip (stats_mode=diff favours what moves), then dithered mapping that
    # only redraws changed rectangles: smaller files than a per-frame palette.
    graph = (
        f"[0:v:0]fps={settings.fps},scale={width}:-2:flags=lanczos,split[a][b];"
        "[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle[out]"
    )
    out = ctx.output_path(ffmpeg.output_name(src, "animated", "gif"))
    args = [*ffmpeg.inp(src, "-ss", ffmpeg.seconds(settings.startS), "-t", ffmpeg.seconds(length))]
    args += ["-filter_complex", graph, "-map", "[out]", "-loop", "0", "-f", "gif", ffmpeg.output(out)]
    ffmpeg.run(args, ctx, length, message="Making GIF")
    gif = ffmpeg.probe(ffmpeg.require_output(out), "gif")
    data = {"format": "gif", "width": gif.video.width if gif.video else width, "duration": round(length, 3)}
    data["height"] = gif.video.height if gif.video else None
    return ToolResult([out], data)
