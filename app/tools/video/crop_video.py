"""Crop Video: keep a rectangle of the picture."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, display_size, filter_video
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool


class CropVideoSettings(ToolSettings):
    width: int = Field(..., ge=2, le=16384, description="Width of the kept rectangle, in pixels")
    height: int = Field(..., ge=2, le=16384, description="Height of the kept rectangle, in pixels")
    x: int = Field(0, ge=0, description="Left edge of the rectangle, in pixels")
    y: int = Field(0, ge=0, description="Top edge of the rectangle, in pixels")


@tool(
    id="crop-video",
    section="video",
    title="Crop Video",
    description="Crop a video to a rectangle given by width, height and its top-left corner.",
    settings=CropVideoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: CropVideoSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    frame_w, frame_h = display_size(ffmpeg.require_video(info))
    if settings.x + settings.width > frame_w or settings.y + settings.height > frame_h:
        raise InputRejected(
            f"The crop rectangle reaches outside the {frame_w}x{frame_h} video", 400, "CROP_OUT_OF_BOUNDS"
        )
    # yuv420p needs even sides; round down so the rectangle stays inside.
    width, height = settings.width - settings.width % 2, settings.height - settings.height % 2
    crop = f"crop={width}:{height}:{settings.x}:{settings.y}"
    return filter_video(ctx, [crop], suffix="cropped", info=info, message="Cropping")
