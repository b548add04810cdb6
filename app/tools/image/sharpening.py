"""Sharpening: libvips' adaptive sharpen, a classic unsharp mask, or high-pass, after optional denoising."""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import adjust, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

# Median window per denoise level: a median removes speckle and keeps edges, unlike a blur.
DENOISE = {"off": 0, "light": 3, "medium": 5, "strong": 7}
_BIG = 1_000_000


class SharpeningSettings(ToolSettings):
    method: Literal["adaptive", "unsharp-mask", "high-pass"] = Field(
        "adaptive",
        description="adaptive: libvips sharpen on lightness (sigma, m1, m2, x1, y2, y3); "
        "unsharp-mask: amount, radius, threshold; high-pass: strength, kernelSize",
    )
    # adaptive: the parameters of libvips' vips_sharpen(), with sharp's defaults.
    sigma: float = Field(1.0, ge=0.01, le=10, description="adaptive: sigma of the Gaussian mask")
    m1: float = Field(1.0, ge=0, le=_BIG, description="adaptive: sharpening in flat areas")
    m2: float = Field(2.0, ge=0, le=_BIG, description="adaptive: sharpening in jagged areas")
    x1: float = Field(2.0, ge=0, le=_BIG, description="adaptive: threshold between flat and jagged")
    y2: float = Field(10.0, ge=0, le=_BIG, description="adaptive: most brightening")
    y3: float = Field(20.0, ge=0, le=_BIG, description="adaptive: most darkening")
    # unsharp-mask, as in Photoshop/GIMP.
    amount: float = Field(100, ge=0, le=500, description="unsharp-mask: strength in percent")
    radius: float = Field(1.0, ge=0.1, le=100, description="unsharp-mask: blur radius in pixels")
    threshold: float = Field(0, ge=0, le=255, description="unsharp-mask: differences below this (0-255) are left alone")
    # high-pass.
    strength: float = Field(50, ge=0, le=100, description="high-pass: how much of the detail layer is added")
    kernelSize: Literal[3, 5] = Field(3, description="high-pass: size of the averaging window")
    denoise: Literal["off", "light", "medium", "strong"] = Field(
        "off", description="Noise reduction (median filter) before sharpening, so noise isn't sharpened too"
    )


def _unsharp(colour: pyvips.Image, s: SharpeningSettings) -> pyvips.Image:
    blurred = colour.gaussblur(s.radius, precision="float")
    detail = colour - blurred
    boost = detail * (s.amount / 100)
    if s.threshold > 0:
        boost = (detail.abs() >= s.threshold).ifthenelse(boost, 0)
    return adjust.clamp(colour + boost, 0, 255)


def _high_pass(colour: pyvips.Image, s: SharpeningSettings) -> pyvips.Image:
    k = s.kernelSize
    box = pyvips.Image.new_from_array([[1.0] * k] * k, scale=k * k)
    detail = colour - colour.conv(box, precision="float")
    # strength 50 adds the detail layer twice over (an overlay-blended high-pass layer looks like this).
    return adjust.clamp(colour + detail * (s.strength / 25), 0, 255)


@tool(
    id="sharpening",
    section="image",
    title="Sharpening",
    description="Sharpen with libvips' adaptive sharpen, an unsharp mask or high-pass, with optional denoising.",
    settings=SharpeningSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: SharpeningSettings) -> ToolResult:
    ctx.progress(5, "Sharpening")
    with vips.vips_errors():
        image, fmt = adjust.load(ctx)

        def one(frame: pyvips.Image) -> pyvips.Image:
            colour, alpha = adjust.split_alpha(adjust.to_rgb8(frame))
            size = DENOISE[settings.denoise]
            if size:
                colour = colour.median(size)
            if settings.method == "adaptive":
                out = colour.sharpen(
                    sigma=settings.sigma,
                    x1=settings.x1,
                    y2=settings.y2,
                    y3=settings.y3,
                    m1=settings.m1,
                    m2=settings.m2,
                ).colourspace("srgb")
            elif settings.method == "unsharp-mask":
                out = adjust.to_uchar(_unsharp(colour.cast("float"), settings))
            else:
                out = adjust.to_uchar(_high_pass(colour.cast("float"), settings))
            return adjust.join_alpha(out.cast("uchar"), alpha)

        path = adjust.save(ctx, adjust.map_frames(image, one), fmt, "sharpened")
    ctx.progress(100, "Done")
    return ToolResult([path], {"method": settings.method, "denoise": settings.denoise})
