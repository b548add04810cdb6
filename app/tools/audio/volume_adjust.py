"""Volume Adjust: louder or quieter by a number of decibels."""

from __future__ import annotations

from pydantic import Field

from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class VolumeSettings(ToolSettings):
    gainDb: float = Field(0, ge=-30, le=30, description="Gain in decibels (+6 dB is about twice as loud)")
    preventClipping: bool = Field(True, description="Limit peaks to just below 0 dBFS so boosting never clips")


@tool(
    id="volume-adjust",
    section="audio",
    title="Volume Adjust",
    description="Make audio louder or quieter by a gain in decibels.",
    settings=VolumeSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: VolumeSettings) -> ToolResult:
    filters = [f"volume={settings.gainDb}dB"]
    if settings.preventClipping and settings.gainDb > 0:
        filters.append("alimiter=limit=0.97:level=false")
    return filter_audio(ctx, filters, suffix="volume", message="Adjusting volume")
