"""Silence Removal: cut out the quiet stretches (pauses, dead air)."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class SilenceSettings(ToolSettings):
    thresholdDb: float = Field(-50, ge=-80, le=-20, description="Anything quieter than this counts as silence (dBFS)")
    minSilenceS: float = Field(0.5, ge=0.1, le=5, description="Only silences at least this long are removed")


@tool(
    id="silence-removal",
    section="audio",
    title="Silence Removal",
    description="Remove silent stretches from audio: at the start, the end and in between.",
    settings=SilenceSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: SilenceSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    level = f"{settings.thresholdDb}dB"
    # Leading silence goes entirely; later silences longer than minSilenceS are cut (stop_periods=-1).
    silence = (
        f"silenceremove=start_periods=1:start_threshold={level}:start_silence=0"
        f":stop_periods=-1:stop_duration={settings.minSilenceS}:stop_threshold={level}:detection=peak"
    )
    result = filter_audio(ctx, [silence], suffix="trimmed", info=info, message="Removing silence")
    if "duration" in result.data and info.duration:
        result.data["removedS"] = round(max(0.0, info.duration - result.data["duration"]), 3)
    return result
