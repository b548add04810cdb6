"""Video to WebP: an animated WebP (better quality per byte than GIF)."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS
from app.engine.tool import InputRejected, Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class VideoToWebpSettings(ToolSettings):
    fps: int = Field(10, ge=1, le=30, description="Frames per second")
    width: int = Field(480, ge=16, le=1920, description="Width in pixels (height follows the aspect ratio)")
    quality: int = Field(75, ge=1, le=100, description="1 (smallest) to 100 (best)")
    loop: bool = Field(True, description="Loop forever (false plays once)")
    startS: float = Field(0, ge=0, description="Where the animation starts in the video, in seconds")
    durationS: float = Field(10, gt=0, le=60, description="Length of the animation, in seconds (at most 60)")


@tool(
    id="video-to-webp",
    section="video",
    title="Video to WebP",
    description="Turn part of a video into an animated WebP.",
    settings=VideoToWebpSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
    produces=(Produces("webp", preference=30),),
)
def run(ctx: ToolContext, settings: VideoToWebpSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    stream = ffmpeg.require_video(info)
    if info.duration and settings.startS >= info.duration:
        raise InputRejected(f"startS is past the end of the video ({info.duration:.2f} s)", 400, "INVALID_RANGE")
    length = min(settings.durationS, info.duration - settings.startS) if info.duration else settings.durationS
    width = min(settings.width, stream.width or settings.width)
    out = ctx.output_path(ffmpeg.output_name(src, "animated", "webp"))
    args = [*ffmpeg.inp(src, "-ss", ffmpeg.seconds(settings.startS), "-t", ffmpeg.seconds(length)), "-map", "0:v:0"]
    args += ["-vf", f"fps={settings.fps},scale={width}:-2:flags=lanczos", "-c:v", "libwebp_anim"]
    args += ["-quality", str(settings.quality), "-compression_level", "4", "-loop", "0" if settings.loop else "1"]
    ffmpeg.run([*args, "-an", "-f", "webp", ffmpeg.output(out)], ctx, length, message="Making WebP")
    return ToolResult([ffmpeg.require_output(out)], {"format": "webp", "width": width, "duration": round(length, 3)})
