"""Waveform Image: a PNG picture of the audio's waveform."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class WaveformSettings(ToolSettings):
    width: int = Field(1200, ge=64, le=8000, description="Image width in pixels")
    height: int = Field(300, ge=32, le=4000, description="Image height in pixels")
    color: str = Field("#3b82f6", pattern=r"^#?[0-9a-fA-F]{6}$", description="Waveform colour (hex)")
    background: str | None = Field(
        None, pattern=r"^#?[0-9a-fA-F]{6}$", description="Background colour (hex); empty = transparent"
    )


@tool(
    id="waveform-image",
    section="audio",
    title="Waveform Image",
    description="Draw the waveform of audio as a PNG image.",
    settings=WaveformSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: WaveformSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    ffmpeg.require_audio(info)
    size = f"{settings.width}x{settings.height}"
    graph = f"[0:a:0]showwavespic=s={size}:colors={ffmpeg.color(settings.color)}:split_channels=0"
    if settings.background:
        # showwavespic draws on transparent black; lay it over a solid colour when one is asked for.
        graph += f"[w];color=c={ffmpeg.color(settings.background)}:s={size}[bg];[bg][w]overlay=format=auto"
    graph += ",format=rgba[out]"
    out = ctx.output_path(ffmpeg.output_name(src, "waveform", "png"))
    args = [*ffmpeg.inp(src), "-filter_complex", graph, "-map", "[out]", "-frames:v", "1", "-f", "image2"]
    args += ["-update", "1", "-c:v", "png", ffmpeg.output(out)]
    ffmpeg.run(args, ctx, info.duration, message="Drawing waveform")
    return ToolResult([ffmpeg.require_output(out)], {"width": settings.width, "height": settings.height})
