"""Video Color: brightness, contrast, saturation and gamma."""

from __future__ import annotations

from pydantic import Field

from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class VideoColorSettings(ToolSettings):
    brightness: float = Field(0, ge=-1, le=1, description="-1 (black) to 1 (white); 0 leaves it")
    contrast: float = Field(1, ge=0, le=3, description="0 (flat grey) to 3; 1 leaves it")
    saturation: float = Field(1, ge=0, le=3, description="0 (greyscale) to 3; 1 leaves it")
    gamma: float = Field(1, ge=0.1, le=10, description="Midtones: below 1 darker, above 1 lighter")


@tool(
    id="video-color",
    section="video",
    title="Video Color",
    description="Adjust a video's brightness, contrast, saturation and gamma.",
    settings=VideoColorSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: VideoColorSettings) -> ToolResult:
    eq = (
        f"eq=brightness={settings.brightness}:contrast={settings.contrast}"
        f":saturation={settings.saturation}:gamma={settings.gamma}"
    )
    return filter_video(ctx, [eq], suffix="color", message="Adjusting colour")
