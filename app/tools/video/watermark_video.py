"""Watermark Video: a text overlay in a corner or the centre."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, filter_video
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

_MARGIN = "max(8\\,h/40)"
_POSITIONS = {
    "top-left": (_MARGIN, _MARGIN),
    "top-right": (f"w-tw-{_MARGIN}", _MARGIN),
    "bottom-left": (_MARGIN, f"h-th-{_MARGIN}"),
    "bottom-right": (f"w-tw-{_MARGIN}", f"h-th-{_MARGIN}"),
    "center": ("(w-tw)/2", "(h-th)/2"),
}


class WatermarkVideoSettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=200, description="The watermark text")
    position: Literal["top-left", "top-right", "bottom-left", "bottom-right", "center"] = Field(
        "bottom-right", description="Where the text goes"
    )
    fontSize: int = Field(24, ge=8, le=200, description="Text height in pixels")
    opacity: float = Field(0.7, ge=0, le=1, description="0 (invisible) to 1 (opaque)")
    color: str = Field("#ffffff", pattern=r"^#?[0-9a-fA-F]{6}$", description="Text colour (hex)")


@tool(
    id="watermark-video",
    section="video",
    title="Watermark Video",
    description="Put a text watermark on a video.",
    settings=WatermarkVideoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: WatermarkVideoSettings) -> ToolResult:
    # The text goes through a file: no escaping of quotes, colons or backslashes in the filter, and
    # expansion=none keeps %{...} sequences literal.
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    text_file = ctx.workdir / "watermark.txt"
    text_file.write_text(settings.text.replace("\r", ""), encoding="utf-8")
    x, y = _POSITIONS[settings.position]
    colour = f"{ffmpeg.color(settings.color)}@{settings.opacity:.3f}"
    draw = (
        f"drawtext=fontfile={ffmpeg.FONT}:textfile=watermark.txt:expansion=none:fontsize={settings.fontSize}"
        f":fontcolor={colour}:shadowcolor=0x000000@{settings.opacity / 2:.3f}:shadowx=1:shadowy=1:x={x}:y={y}"
    )
    try:
        return filter_video(ctx, [draw], suffix="watermarked", message="Watermarking", cwd=ctx.workdir)
    finally:
        text_file.unlink(missing_ok=True)
