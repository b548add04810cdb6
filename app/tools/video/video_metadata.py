"""Clean Video Metadata: remove tags, chapters and GPS/camera data without re-encoding."""

from __future__ import annotations

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, remux
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool

# Tags every muxer writes about itself: not the user's data, not worth reporting as removed.
_TECHNICAL = {"major_brand", "minor_version", "compatible_brands", "encoder", "handler_name", "vendor_id"}


@tool(
    id="video-metadata",
    section="video",
    title="Clean Video Metadata",
    description="Strip metadata (title, dates, location, camera, chapters) from a video without re-encoding.",
    settings=NoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    removed = sorted(
        {k for k in info.tags if k not in _TECHNICAL}
        | {k for s in info.streams for k in s.tags if k not in _TECHNICAL and k != "language"}
    )
    # bitexact keeps the muxer from writing its own version string and creation time back in.
    args = ["-map", "0:v", "-map", "0:a?", "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1"]
    args += ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
    result = remux(ctx, args, suffix="clean", info=info, message="Removing metadata")
    result.data["removedTags"] = removed
    return result
