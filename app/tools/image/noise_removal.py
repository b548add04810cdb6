"""Noise Removal: four tiers, from a bilateral filter to Real-ESRGAN (see app/engine/media/denoise.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.ai import bundles
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

BUNDLE = "upscale-enhance"
# The Real-ESRGAN network of each model tier (app/engine/media/denoise.py runs them).
TIER_MODELS = {"quality": "realesr-animevideov3", "maximum": "realesrgan-x4plus"}


class NoiseRemovalSettings(ToolSettings):
    tier: Literal["quick", "balanced", "quality", "maximum"] = Field(
        "balanced",
        description="quick: bilateral filter; balanced: non-local means; quality: Real-ESRGAN on a half-size copy; "
        "maximum: non-local means then Real-ESRGAN x4plus (slowest, smoothest)",
    )
    strength: float = Field(50, ge=0, le=100, description="How much noise to remove (0-100)")
    detailPreservation: float = Field(
        50, ge=0, le=100, description="How much of the original detail to keep along edges (0-100)"
    )
    colorNoise: float = Field(50, ge=0, le=100, description="Extra smoothing of colour (chroma) noise (0-100)")
    format: Literal["original", "jpeg", "png", "webp", "avif", "tiff"] = Field(
        "original", description="Output format; original keeps the input's"
    )
    quality: int = Field(90, ge=1, le=100, description="Quality for lossy outputs (JPEG, WebP, AVIF)")


def needs_model(settings: NoiseRemovalSettings) -> str | None:
    """The tier's model, if it has one; 501 before the upload is queued when it isn't installed."""
    model = TIER_MODELS.get(settings.tier)
    if model is not None:
        bundles.model_path(model, BUNDLE)
    return model


@tool(
    id="noise-removal",
    section="image",
    title="Noise Removal",
    description="Reduce noise and grain in four tiers: quick and balanced filters, or Real-ESRGAN for quality "
    "and maximum; detail preservation and separate colour-noise control.",
    settings=NoiseRemovalSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature=BUNDLE,
    preflight=needs_model,
)
def run(ctx: ToolContext, settings: NoiseRemovalSettings) -> ToolResult:
    from app.engine.media import arrays, denoise, vips

    model = needs_model(settings)
    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        picture = arrays.load(ctx)
    before = denoise.noise_sigma(picture.rgb)
    ctx.check_cancelled()
    ctx.progress(15, f"Removing noise ({settings.tier})")

    def tile(done: int, total: int) -> None:
        ctx.check_cancelled()
        ctx.progress(15 + 70 * done / total, f"Removing noise ({settings.tier}): tile {done} of {total}")

    out = denoise.denoise(
        picture.rgb, settings.tier, settings.strength, settings.detailPreservation, settings.colorNoise, tile
    )
    ctx.check_cancelled()
    ctx.progress(90, "Saving")
    with vips.vips_errors():
        path = arrays.save(ctx, picture, out, "denoised", arrays.format_for(picture, settings.format), settings.quality)
    ctx.progress(100, "Done")
    return ToolResult(
        [path],
        {
            "tier": settings.tier,
            "model": model,
            "noiseBefore": round(before, 2),
            "noiseAfter": round(denoise.noise_sigma(out), 2),
        },
    )
