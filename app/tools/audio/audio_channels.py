"""Audio Channels: stereo to mono, mono to stereo, or swap left and right."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

_FILTERS = {
    # Averaging (not summing) the channels keeps a full-scale stereo file from clipping.
    "stereo-to-mono": "pan=mono|c0=0.5*c0+0.5*c1",
    "mono-to-stereo": "pan=stereo|c0=c0|c1=c0",
    "swap": "pan=stereo|c0=c1|c1=c0",
}


class ChannelsSettings(ToolSettings):
    mode: Literal["stereo-to-mono", "mono-to-stereo", "swap"] = Field(
        "stereo-to-mono", description="stereo-to-mono mixes both channels; mono-to-stereo copies; swap exchanges L/R"
    )


@tool(
    id="audio-channels",
    section="audio",
    title="Audio Channels",
    description="Mix stereo down to mono, turn mono into stereo, or swap the left and right channels.",
    settings=ChannelsSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: ChannelsSettings) -> ToolResult:
    info = ffmpeg.probe_input(ctx.input)
    channels = ffmpeg.require_audio(info).channels
    if settings.mode == "swap" and channels < 2:
        raise InputRejected("The audio is mono: there are no channels to swap", 400, "INVALID_INPUT")
    result = filter_audio(
        ctx, [_FILTERS[settings.mode]], suffix=settings.mode.split("-")[-1], info=info, message="Remixing channels"
    )
    result.data["channels"] = 1 if settings.mode == "stereo-to-mono" else 2
    return result
