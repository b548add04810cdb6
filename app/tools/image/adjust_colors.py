"""Adjust Colors: brightness, contrast, exposure, saturation, temperature, tint, hue, sharpness,
per-channel red/green/blue, and a grayscale/sepia/invert effect, in one pass."""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import adjust, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

# The classic sepia matrix (as in CSS `sepia(1)` and most editors).
SEPIA = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]
_WARMTH = 0.3  # temperature/tint at +-100 scale a channel by +-30%: strong, but not a colour wash


def _signed(description: str) -> float:
    return Field(0, ge=-100, le=100, description=description + " (-100 to 100, 0 leaves it unchanged)")


class AdjustColorsSettings(ToolSettings):
    brightness: float = _signed("Brightness: scales every channel, like CSS brightness()")
    contrast: float = _signed("Contrast around mid-grey; -100 gives flat grey")
    exposure: float = _signed("Exposure in linear light; +-100 is +-2 stops")
    saturation: float = _signed("Saturation; -100 removes all colour")
    temperature: float = _signed("Colour temperature: positive warmer (more red), negative cooler (more blue)")
    tint: float = _signed("Tint: positive towards magenta, negative towards green")
    hue: float = Field(0, ge=-180, le=180, description="Hue rotation in degrees (-180 to 180), in CIE LCh")
    sharpness: float = Field(0, ge=0, le=100, description="Sharpening strength (0 to 100)")
    red: float = _signed("Red channel gain; -100 removes red")
    green: float = _signed("Green channel gain; -100 removes green")
    blue: float = _signed("Blue channel gain; -100 removes blue")
    effect: Literal["none", "grayscale", "sepia", "invert"] = Field("none", description="Effect applied last")


def _tone(colour: pyvips.Image, s: AdjustColorsSettings) -> pyvips.Image:
    """Float sRGB (0-255) in and out: every adjustment except hue and sharpness."""
    if s.exposure:
        # Stops are multiplications of light, so they happen in linear light, not on sRGB codes.
        linear = adjust.to_linear(adjust.to_uchar(colour)) * (2 ** (s.exposure / 50))
        colour = adjust.from_linear(linear).cast("float")
    if s.brightness:
        colour = colour * (1 + s.brightness / 100)
    if s.contrast:
        colour = (colour - 128) * (1 + s.contrast / 100) + 128
    if s.saturation:
        grey = adjust.luma(colour)
        colour = grey + (colour - grey) * (1 + s.saturation / 100)
    gains = [
        (1 + s.red / 100) * (1 + _WARMTH * s.temperature / 100),
        (1 + s.green / 100) * (1 - _WARMTH * s.tint / 100),
        (1 + s.blue / 100) * (1 - _WARMTH * s.temperature / 100),
    ]
    if gains != [1.0, 1.0, 1.0]:
        colour = colour * gains
    return adjust.clamp(colour, 0, 255)


def _hue(colour: pyvips.Image, degrees: float) -> pyvips.Image:
    """Rotates hue in CIE LCh, which keeps lightness (an HSV rotation would make yellows go dark)."""
    lch = adjust.to_uchar(colour).colourspace("lch")
    h = (lch[2] + (degrees + 360)) % 360
    return lch[0].bandjoin([lch[1], h]).copy(interpretation="lch").colourspace("srgb").cast("float")


def _effect(colour: pyvips.Image, effect: str) -> pyvips.Image:
    if effect == "grayscale":
        grey = adjust.luma(colour)
        return grey.bandjoin([grey, grey])
    if effect == "sepia":
        return adjust.clamp(colour.recomb(SEPIA), 0, 255)
    if effect == "invert":
        return 255 - colour
    return colour


@tool(
    id="adjust-colors",
    section="image",
    title="Adjust Colors",
    description="Brightness, contrast, exposure, saturation, temperature, tint, hue, sharpness, "
    "red/green/blue, and grayscale, sepia or invert effects.",
    settings=AdjustColorsSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: AdjustColorsSettings) -> ToolResult:
    ctx.progress(5, "Adjusting colours")
    with vips.vips_errors():
        image, fmt = adjust.load(ctx)

        def colours(colour: pyvips.Image) -> pyvips.Image:
            colour = _tone(colour, settings)
            if settings.hue:
                colour = _hue(colour, settings.hue)
            return _effect(colour, settings.effect)

        out = adjust.map_colour(image, colours)
        if settings.sharpness:
            # libvips' sharpen works on lightness only, so it adds no colour fringes.
            m2 = settings.sharpness / 100 * 6

            def sharpen(frame: pyvips.Image) -> pyvips.Image:
                colour, alpha = adjust.split_alpha(frame)
                sharp = colour.sharpen(sigma=1.0, m1=0.5, m2=m2).colourspace("srgb").cast("uchar")
                return adjust.join_alpha(sharp, alpha)

            out = adjust.map_frames(out, sharpen)
        path = adjust.save(ctx, out, fmt, "adjusted")
    ctx.progress(100, "Done")
    return ToolResult([path], {"effect": settings.effect})
