"""Change FPS: a new frame rate (frames are dropped or repeated; the length stays)."""

from __future__ import annotations

from pydantic import Field

from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class ChangeFpsSettings(ToolSettings):
    fps: float = Field(30, ge=1, le=120, description="New frame rate, in frames per second")


@tool(
    id="change-fps",
    section="video",
    title="Change FPS",
    description="Change a video's frame rate without changing its length.",
    settings=ChangeFpsSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: ChangeFpsSettings) -> ToolResult:
    return filter_video(ctx, [f"fps={settings.fps:g}"], suffix=f"{settings.fps:g}fps", message="Changing frame rate")
