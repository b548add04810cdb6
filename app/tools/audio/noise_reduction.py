"""Noise Reduction: lower steady background noise (hiss, hum, fans) with an FFT denoiser."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media.audio import AUDIO_INPUTS, filter_audio
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

# afftdn: nr is how many dB of noise to remove, nf the assumed noise floor; tn tracks the floor as it
# changes, so a fan switching on mid-recording is still caught.
_LEVELS = {
    "light": "afftdn=nr=6:nf=-50:tn=1",
    "medium": "afftdn=nr=12:nf=-45:tn=1",
    "strong": "afftdn=nr=24:nf=-40:tn=1",
}


class NoiseSettings(ToolSettings):
    strength: Literal["light", "medium", "strong"] = Field("medium", description="How much noise to remove")


@tool(
    id="noise-reduction",
    section="audio",
    title="Noise Reduction",
    description="Reduce steady background noise such as hiss, hum or fans.",
    settings=NoiseSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: NoiseSettings) -> ToolResult:
    return filter_audio(ctx, [_LEVELS[settings.strength]], suffix="denoised", message="Reducing noise")
