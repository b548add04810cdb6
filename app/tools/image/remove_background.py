"""Remove Background: cut the subject out with U2-Net-p (packaged) or BiRefNet (a download), then leave
it on transparency or put it on a colour, a gradient, its own blurred background or another picture,
with an optional drop shadow.

The subject mask is cached under the upload's SHA-256 (see app/engine/media/segment.py), so
`/effects` re-renders another background from the same upload without running the model again.
"""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from app.engine.ai import bundles
from app.engine.media import adjust, segment, vips
from app.engine.media.adjust import HexColor
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import ExtraPart, InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, action, tool

Model = Literal["u2netp", "birefnet-general", "birefnet-general-lite", "birefnet-portrait"]


class RemoveBackgroundSettings(ToolSettings):
    model: Model = Field(
        "u2netp",
        description="Segmentation model: u2netp (U2-Net-p, ships with Lutra, fast) or a BiRefNet model "
        "(birefnet-general best quality; -lite faster; -portrait for people), which an admin installs first",
    )
    backgroundType: Literal["transparent", "color", "gradient", "blur", "image"] = Field(
        "transparent",
        description="What goes behind the subject: nothing, backgroundColor, a gradient, the original "
        "background blurred, or the picture sent as the `background` file part",
    )
    backgroundColor: HexColor = Field("#ffffff", description="Background colour for backgroundType color")
    gradientColor1: HexColor = Field("#667eea", description="Gradient start colour")
    gradientColor2: HexColor = Field("#764ba2", description="Gradient end colour")
    gradientAngle: float = Field(
        90, ge=0, le=360, description="Gradient direction in degrees: 0 left to right, 90 top to bottom"
    )
    blurEnabled: bool = Field(
        False, description="Also blur a color, gradient or image background (the blur type is always blurred)"
    )
    blurIntensity: int = Field(50, ge=1, le=100, description="Background blur strength (1-100)")
    shadowEnabled: bool = Field(False, description="Cast a soft drop shadow from the subject onto the background")
    shadowOpacity: int = Field(50, ge=0, le=100, description="Shadow opacity in percent")


class EffectsSettings(RemoveBackgroundSettings):
    """The same settings for /effects, which re-renders from a cached mask: a chosen BiRefNet model need
    not be installed any more while its mask for the upload is cached."""


def check_model(settings: RemoveBackgroundSettings) -> None:
    """Before a cut-out job is accepted: 501 at once when the chosen BiRefNet model isn't installed."""
    if type(settings) is RemoveBackgroundSettings and settings.model != segment.U2NETP:
        bundles.model_path(settings.model, segment.BUNDLE)


def background_for(
    ctx: ToolContext, settings: RemoveBackgroundSettings, rgb: pyvips.Image, mask: pyvips.Image
) -> pyvips.Image | None:
    width, height = rgb.width, rgb.height
    sigma = segment.blur_sigma(settings.blurIntensity, width, height)
    kind = settings.backgroundType
    if kind == "transparent":
        return None
    if kind == "blur":
        return segment.blurred_background(rgb, mask, sigma)
    if kind == "color":
        background = segment.solid(width, height, adjust.rgb(settings.backgroundColor))
    elif kind == "gradient":
        background = segment.gradient(
            width,
            height,
            adjust.rgb(settings.gradientColor1),
            adjust.rgb(settings.gradientColor2),
            settings.gradientAngle,
        )
    else:
        part = ctx.extra.get("background")
        if part is None:
            raise InputRejected("backgroundType image needs the new background as the `background` file part")
        picture, _ = segment.load_rgb(part)
        background = segment.cover(picture, width, height)
    if settings.blurEnabled:
        background = segment.blur(background, sigma).cast("uchar")
    return background


def render(ctx: ToolContext, settings: RemoveBackgroundSettings) -> ToolResult:
    # FeatureNotInstalled (501) when a BiRefNet model is chosen but not installed and no cached mask exists.
    rgb, alpha, found = segment.cut_out(ctx, settings.model)
    ctx.progress(75, "Compositing")
    with vips.vips_errors():
        background = background_for(ctx, settings, rgb, found.mask)
        out = segment.compose(
            rgb,
            found.mask,
            background,
            shadow_opacity=settings.shadowOpacity / 100 if settings.shadowEnabled else 0.0,
            alpha=alpha,
        )
        path = segment.save_as(ctx, out, "png", "nobg")
    ctx.progress(100, "Done")
    coverage = found.mask.avg() / 255
    return ToolResult(
        [path],
        {**found.data(), "backgroundType": settings.backgroundType, "subjectCoverage": round(coverage, 4)},
    )


@tool(
    id="remove-background",
    section="image",
    title="Remove Background",
    description="Cut out the subject (AI segmentation on your own hardware) and leave it on transparency, "
    "a colour, a gradient, its blurred background or another picture, with an optional shadow.",
    settings=RemoveBackgroundSettings,
    inputs=Inputs(
        kinds=IMAGE_KINDS,
        extra=(
            ExtraPart(
                "background",
                IMAGE_KINDS,
                required=False,
                description="New background picture for backgroundType image (scaled to cover)",
            ),
        ),
    ),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature="background-removal",
    models=("u2netp",),
    preflight=check_model,
)
def run(ctx: ToolContext, settings: RemoveBackgroundSettings) -> ToolResult:
    return render(ctx, settings)


@action(
    "remove-background",
    "effects",
    summary="Re-render the background (type, colour, gradient, blur, shadow) of an image cut out before, "
    "from its cached mask without running the model again; answers the PNG, X-Mask-Cached says whether "
    "the cache was used",
    returns="file",
    settings=EffectsSettings,
)
def effects(ctx: ToolContext, settings: EffectsSettings) -> ToolResult:
    # Same pipeline: subject_mask() finds the upload's mask in the cache and skips the model; an upload
    # never cut out before (or evicted from the cache) is segmented once, and says so (maskCached false).
    return render(ctx, settings)
