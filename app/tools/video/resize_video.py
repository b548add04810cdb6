"""Resize Video: to a standard height preset or a custom size (aspect ratio kept)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

PRESET_HEIGHTS = {"2160p": 2160, "1440p": 1440, "1080p": 1080, "720p": 720, "480p": 480, "360p": 360}


class ResizeVideoSettings(ToolSettings):
    preset: Literal["custom", "2160p", "1440p", "1080p", "720p", "480p", "360p"] = Field(
        "720p", description="A standard height (width follows the aspect ratio), or custom (width and/or height)"
    )
    width: int | None = Field(None, ge=16, le=7680, description="Custom: width in pixels")
    height: int | None = Field(None, ge=16, le=4320, description="Custom: height in pixels")

    @model_validator(mode="after")
    def _size_given(self) -> ResizeVideoSettings:
        if self.preset == "custom" and self.width is None and self.height is None:
            raise ValueError("custom needs a width and/or a height")
        return self


def scale_filter(settings: ResizeVideoSettings) -> str:
    if settings.preset != "custom":
        return f"scale=-2:{PRESET_HEIGHTS[settings.preset]}:flags=lanczos"
    if settings.width and settings.height:
        # Both given: fit inside the box, keeping the aspect ratio (sides stay even for yuv420p).
        return (
            f"scale={settings.width}:{settings.height}:force_original_aspect_ratio=decrease"
            ":force_divisible_by=2:flags=lanczos"
        )
    if settings.width:
        return f"scale={ffmpeg.even(settings.width)}:-2:flags=lanczos"
    return f"scale=-2:{ffmpeg.even(settings.height or 2)}:flags=lanczos"


@tool(
    id="resize-video",
    section="video",
    title="Resize Video",
    description="Change a video's resolution to a preset (2160p to 360p) or a custom size.",
    settings=ResizeVideoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: ResizeVideoSettings) -> ToolResult:
    return filter_video(ctx, [scale_filter(settings)], suffix="resized", message="Resizing")
