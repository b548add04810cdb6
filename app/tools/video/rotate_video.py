"""Rotate Video: quarter turns and mirror flips."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

_FILTERS = {
    "cw90": ["transpose=clock"],
    "ccw90": ["transpose=cclock"],
    "180": ["hflip", "vflip"],
    "hflip": ["hflip"],
    "vflip": ["vflip"],
}


class RotateVideoSettings(ToolSettings):
    transform: Literal["cw90", "ccw90", "180", "hflip", "vflip"] = Field(
        "cw90", description="cw90/ccw90: quarter turn clockwise/counter-clockwise; 180; hflip/vflip: mirror"
    )


@tool(
    id="rotate-video",
    section="video",
    title="Rotate Video",
    description="Rotate a video by 90 or 180 degrees, or flip it horizontally or vertically.",
    settings=RotateVideoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: RotateVideoSettings) -> ToolResult:
    return filter_video(ctx, _FILTERS[settings.transform], suffix="rotated", message="Rotating")
