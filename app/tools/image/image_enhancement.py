"""Image Enhancement: measure exposure, contrast, colour and sharpness, then correct what is off.

Analysis-based, no model: libvips measures a (shrunk) copy of the image and derives the corrections
(a gamma towards a mid-grey mean, a levels stretch, a saturation/white-balance change, an unsharp
mask); `strength` says how much of each measured correction is applied. /analyze answers the
measurements and what `auto` would do, without writing an image.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import pyvips
from pydantic import Field

from app.engine.media import adjust, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, action, tool

Mode = Literal["auto", "exposure", "contrast", "color", "sharpness"]

TARGET_MEAN = 118.0  # mean luminance (0-255) of a well-exposed photo: ~46 % grey
EXPOSURE_TOLERANCE = 18.0  # auto leaves a mean within this of the target alone
MIN_RANGE = 215.0  # auto stretches when the 0.5-99.5 % luminance range is narrower than this
LOW_SATURATION = 22.0  # auto boosts colour below this mean HSV saturation (percent) ...
GREY = 4.0  # ... unless the image is (nearly) greyscale
CAST = 4.0  # auto neutralises a mean Lab a*/b* offset larger than this
SOFT = 120.0  # auto sharpens below this Laplacian variance (measured at ANALYSIS_SIDE)
ANALYSIS_SIDE = 1024  # measurements run on a copy at most this large: fast, and comparable across sizes

LAPLACIAN = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]  # made into an image when used: no libvips at import


class ImageEnhancementSettings(ToolSettings):
    mode: Mode = Field(
        "auto",
        description="auto: correct whatever the analysis finds off; exposure, contrast, color or sharpness: "
        "apply only that correction",
    )
    strength: float = Field(
        75, ge=0, le=100, description="How much of each measured correction to apply, in percent (0 = none)"
    )


# --- measuring ---------------------------------------------------------------------------------------


def analyse(image: pyvips.Image) -> dict[str, Any]:
    """Statistics of the first frame's colour, measured on a copy at most ANALYSIS_SIDE large."""
    frame = adjust.to_rgb8(vips.first_page(image))
    if max(frame.width, frame.height) > ANALYSIS_SIDE:
        frame = frame.resize(ANALYSIS_SIDE / max(frame.width, frame.height))
    colour, _ = adjust.split_alpha(frame)
    luma = adjust.luma(colour.cast("float"))
    luma8 = adjust.to_uchar(adjust.clamp(luma, 0, 255))
    hsv = colour.colourspace("hsv")
    lab = colour.colourspace("lab")
    laplacian = luma.conv(pyvips.Image.new_from_array(LAPLACIAN), precision="float")
    return {
        "width": image.width,
        "height": vips.page_height(image),
        "meanLuminance": round(luma.avg(), 2),
        "contrast": round(luma.deviate(), 2),  # standard deviation of luminance
        "shadowPoint": luma8.percent(0.5),  # luminance below which 0.5 % of pixels lie
        "highlightPoint": luma8.percent(99.5),
        "clippedShadows": round((luma8 <= 2).avg() / 255 * 100, 3),  # percent of pixels
        "clippedHighlights": round((luma8 >= 253).avg() / 255 * 100, 3),
        "saturation": round(hsv[1].avg() / 255 * 100, 2),  # mean HSV saturation, percent
        "colorCast": {"a": round(lab[1].avg(), 2), "b": round(lab[2].avg(), 2)},  # mean Lab a*, b*
        "sharpness": round(laplacian.deviate() ** 2, 2),  # variance of the Laplacian
    }


# --- planning ----------------------------------------------------------------------------------------


def _exposure(stats: dict[str, Any], k: float) -> dict[str, Any]:
    mean = min(max(stats.get("stretchedMean", stats["meanLuminance"]), 1.0), 254.0)
    gamma = math.log(TARGET_MEAN / 255) / math.log(mean / 255)  # moves the mean to the target
    gamma = min(2.5, max(0.4, gamma))
    gamma = 1 + (gamma - 1) * k
    return {"gamma": round(gamma, 4)}


def _contrast(stats: dict[str, Any], k: float) -> dict[str, Any]:
    low, high = float(stats["shadowPoint"]), float(stats["highlightPoint"])
    if high - low < 8:  # a flat image: stretching would only amplify noise
        low, high = 0.0, 255.0
    return {"black": round(low * k, 2), "white": round(255 - (255 - high) * k, 2)}


def _colour(stats: dict[str, Any], k: float) -> dict[str, Any]:
    grey = stats["saturation"] < GREY
    boost = 1.0 if grey else 1 + 0.5 * k * max(0.0, 1 - stats["saturation"] / 60)
    cast = stats["colorCast"]
    shift = {"a": 0.0, "b": 0.0}
    if not grey:
        shift = {axis: round(-cast[axis] * 0.8 * k, 3) if abs(cast[axis]) > CAST else 0.0 for axis in ("a", "b")}
    return {"saturation": round(boost, 4), "shiftA": shift["a"], "shiftB": shift["b"]}


def _sharpness(stats: dict[str, Any], k: float) -> dict[str, Any]:
    softness = max(0.0, 1 - stats["sharpness"] / (SOFT * 4))  # softer images get more
    return {"amount": round((0.6 + 1.4 * softness) * k, 4), "sigma": 1.0}


PLANNERS = {"exposure": _exposure, "contrast": _contrast, "color": _colour, "sharpness": _sharpness}


def recommendations(stats: dict[str, Any]) -> list[dict[str, str]]:
    """What auto would correct, and why, from the measurements."""
    found = []
    mean = stats["meanLuminance"]
    if abs(mean - TARGET_MEAN) > EXPOSURE_TOLERANCE:
        state = "underexposed" if mean < TARGET_MEAN else "overexposed"
        found.append({"mode": "exposure", "reason": f"The image is {state} (mean luminance {mean:.0f} of 255)"})
    spread = stats["highlightPoint"] - stats["shadowPoint"]
    if spread < MIN_RANGE:
        found.append({"mode": "contrast", "reason": f"Tones span only {spread:.0f} of 255 levels (flat contrast)"})
    cast = stats["colorCast"]
    if stats["saturation"] >= GREY and (
        stats["saturation"] < LOW_SATURATION or max(abs(cast["a"]), abs(cast["b"])) > CAST
    ):
        why = (
            f"Colours are muted (saturation {stats['saturation']:.0f} %)"
            if stats["saturation"] < LOW_SATURATION
            else f"The image has a colour cast (a* {cast['a']:.1f}, b* {cast['b']:.1f})"
        )
        found.append({"mode": "color", "reason": why})
    if stats["sharpness"] < SOFT:
        why = f"The image looks soft (Laplacian variance {stats['sharpness']:.0f})"
        found.append({"mode": "sharpness", "reason": why})
    return found


def plan(stats: dict[str, Any], mode: Mode, strength: float) -> dict[str, dict[str, Any]]:
    """The corrections to apply: auto picks those the analysis recommends; a named mode applies its own."""
    k = strength / 100
    modes = [r["mode"] for r in recommendations(stats)] if mode == "auto" else [mode]
    out = {}
    for m in ("contrast", "exposure", "color", "sharpness"):  # the order apply() works in
        if m in modes:
            out[m] = PLANNERS[m](stats, k)
        if m == "contrast" and m in out:
            # The gamma is worked out on the mean the stretch leaves, not the one measured.
            black, white = out[m]["black"], out[m]["white"]
            stats = {**stats, "stretchedMean": (stats["meanLuminance"] - black) * 255 / max(1.0, white - black)}
    return out


# --- applying ----------------------------------------------------------------------------------------


def apply(image: pyvips.Image, corrections: dict[str, dict[str, Any]]) -> pyvips.Image:
    colour, alpha = adjust.split_alpha(adjust.to_rgb8(image))
    x = colour.cast("float")
    if "contrast" in corrections:
        black, white = corrections["contrast"]["black"], corrections["contrast"]["white"]
        x = adjust.clamp((x - black) * (255 / max(1.0, white - black)), 0, 255)
    if "exposure" in corrections:
        gamma = corrections["exposure"]["gamma"]
        x = (x / 255) ** gamma * 255
    x = adjust.clamp(x, 0, 255)
    if "color" in corrections:
        c = corrections["color"]
        lab = adjust.to_uchar(x).copy(interpretation="srgb").colourspace("lab")
        a = lab[1] * c["saturation"] + c["shiftA"]
        b = lab[2] * c["saturation"] + c["shiftB"]
        x = lab[0].bandjoin([a, b]).copy(interpretation="lab").colourspace("srgb").cast("float")
    out = adjust.to_uchar(adjust.clamp(x, 0, 255))
    if "sharpness" in corrections:
        amount = corrections["sharpness"]["amount"]
        sigma = corrections["sharpness"]["sigma"]

        def sharpen(frame: pyvips.Image) -> pyvips.Image:
            f = frame.cast("float")
            detail = f - f.gaussblur(sigma, precision="float")
            return adjust.to_uchar(adjust.clamp(f + detail * amount, 0, 255))

        out = adjust.map_frames(out, sharpen)
    return adjust.join_alpha(out.cast("uchar"), alpha)


@tool(
    id="image-enhancement",
    section="image",
    title="Image Enhancement",
    description="Analyse exposure, contrast, colour and sharpness and correct what is off (auto), or apply one "
    "correction; /analyze reports the measurements and what auto would change.",
    settings=ImageEnhancementSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: ImageEnhancementSettings) -> ToolResult:
    ctx.progress(5, "Analysing")
    with vips.vips_errors():
        image, fmt = adjust.load(ctx)
        stats = analyse(image)
        corrections = plan(stats, settings.mode, settings.strength)
        ctx.progress(40, "Enhancing")
        path = adjust.save(ctx, apply(image, corrections), fmt, "enhanced")
    ctx.progress(100, "Done")
    return ToolResult([path], {"mode": settings.mode, "analysis": stats, "applied": corrections})


@action(
    "image-enhancement",
    "analyze",
    summary="Analyze image quality (exposure, contrast, colour, sharpness) and return enhancement recommendations",
)
def analyze(ctx: ToolContext, settings: ImageEnhancementSettings) -> ToolResult:
    with vips.vips_errors():
        image, _ = adjust.load(ctx)
        stats = analyse(image)
    found = recommendations(stats)
    return ToolResult(
        [],
        {
            "analysis": stats,
            "recommendations": found,
            "auto": plan(stats, "auto", settings.strength),
            "needsEnhancement": bool(found),
        },
    )
