"""Stabilize Video: smooth out camera shake (vid.stab in two passes where available, deshake otherwise)."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class StabilizeSettings(ToolSettings):
    smoothing: int = Field(15, ge=5, le=60, description="Frames averaged for the camera path: more is smoother")


@tool(
    id="stabilize-video",
    section="video",
    title="Stabilize Video",
    description="Reduce camera shake in a video.",
    settings=StabilizeSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: StabilizeSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    ffmpeg.require_video(info)
    if not (ffmpeg.has_filter("vidstabdetect") and ffmpeg.has_filter("vidstabtransform")):
        result = filter_video(ctx, ["deshake"], suffix="stabilized", info=info, message="Stabilizing")
        result.data["method"] = "deshake"
        return result
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    transforms = ctx.workdir / "transforms.trf"
    # Pass 1 measures the motion between frames into a file (relative path: no filter escaping).
    detect = ["-map", "0:v:0", "-vf", "vidstabdetect=shakiness=6:accuracy=12:result=transforms.trf", "-f", "null", "-"]
    ffmpeg.run(
        [*ffmpeg.inp(src), *detect], ctx, info.duration, span=(0, 50), message="Analysing motion", cwd=ctx.workdir
    )
    try:
        # Pass 2 moves each frame along the smoothed path; zoom=0:optzoom=1 hides the moving borders.
        transform = f"vidstabtransform=input=transforms.trf:smoothing={settings.smoothing}:optzoom=1:interpol=bicubic"
        result = filter_video(
            ctx,
            [transform, "unsharp=5:5:0.8:3:3:0.4"],
            suffix="stabilized",
            info=info,
            span=(50, 100),
            message="Stabilizing",
            cwd=ctx.workdir,
        )
    finally:
        transforms.unlink(missing_ok=True)
    result.data["method"] = "vidstab"
    return result
