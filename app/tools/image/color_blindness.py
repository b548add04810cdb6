"""Color Blindness Simulation: how an image looks with each of eight colour vision deficiencies."""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import adjust, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

Simulation = Literal[
    "protanopia",
    "deuteranopia",
    "tritanopia",
    "protanomaly",
    "deuteranomaly",
    "tritanomaly",
    "achromatopsia",
    "blueConeMonochromacy",
]

# Machado, Oliveira & Fernandes, "A Physiologically-based Model for Simulation of Color Vision
# Deficiency", IEEE TVCG 15(6), 2009: the matrices the authors publish, applied to linear RGB (the
# same ones Chrome and Firefox DevTools use). The -opia types are severity 1.0; the -anomaly types
# are severity 0.6, a moderate anomalous trichromacy.
MACHADO_2009: dict[str, list[list[float]]] = {
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
    "protanomaly": [
        [0.385450, 0.769005, -0.154455],
        [0.100526, 0.829802, 0.069673],
        [-0.007442, -0.022190, 1.029632],
    ],
    "deuteranomaly": [
        [0.547494, 0.607765, -0.155259],
        [0.181692, 0.781742, 0.036566],
        [-0.010410, 0.027275, 0.983136],
    ],
    "tritanomaly": [
        [1.104996, -0.046633, -0.058363],
        [-0.032137, 0.971635, 0.060503],
        [0.001336, 0.317922, 0.680742],
    ],
}

# Achromatopsia (rod monochromacy): only brightness is left; relative luminance, Rec. 709 weights
# on linear RGB (IEC 61966-2-1).
ACHROMATOPSIA = [0.2126, 0.7152, 0.0722]

# Blue cone monochromacy: in daylight only the S cones still signal, so the picture is a single
# channel weighted like the S-cone response. Weights: the S row of the Smith & Pokorny (1975)
# cone fundamentals for sRGB primaries (as used by DaltonLens, Viénot/Brettel simulations),
# 0.00031087, 0.00191661, 0.01528089, normalised so white stays white.
_S_ROW = (0.00031087, 0.00191661, 0.01528089)
BLUE_CONE = [v / sum(_S_ROW) for v in _S_ROW]


def simulation_matrix(kind: str) -> list[list[float]]:
    """The 3x3 linear-RGB matrix for one simulation type."""
    if kind in MACHADO_2009:
        return MACHADO_2009[kind]
    row = ACHROMATOPSIA if kind == "achromatopsia" else BLUE_CONE
    return [list(row)] * 3


class ColorBlindnessSettings(ToolSettings):
    simulationType: Simulation = Field(
        "deuteranomaly",
        description="protanopia/deuteranopia/tritanopia (dichromacy, Machado 2009 severity 1.0), "
        "-anomaly types (severity 0.6), achromatopsia (no colour), blueConeMonochromacy",
    )


@tool(
    id="color-blindness",
    section="image",
    title="Color Blindness Simulation",
    description="Simulate how an image looks with protanopia, deuteranopia, tritanopia, their milder "
    "-anomaly forms, achromatopsia or blue cone monochromacy (Machado 2009 matrices).",
    settings=ColorBlindnessSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: ColorBlindnessSettings) -> ToolResult:
    ctx.progress(5, "Simulating")
    m = simulation_matrix(settings.simulationType)
    with vips.vips_errors():
        image, fmt = adjust.load(ctx)
        colour, alpha = adjust.split_alpha(adjust.to_rgb8(image))
        # The matrices model cone responses, which add up in linear light, not on gamma-encoded values.
        simulated = adjust.from_linear(adjust.to_linear(colour).recomb(m))
        out: pyvips.Image = adjust.join_alpha(simulated.cast("uchar"), alpha)
        path = adjust.save(ctx, out, fmt, settings.simulationType)
    ctx.progress(100, "Done")
    return ToolResult([path], {"simulationType": settings.simulationType})
