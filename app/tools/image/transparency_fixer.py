"""PNG Transparency Fixer: repair cut-outs with fringed or ragged alpha.

The picture (flattened on white where it is transparent) is segmented again, with BiRefNet matting
when it is installed and the packaged U2-Net-p otherwise; the answer says which ran. Where the model
sees background the alpha is taken down (halos of the old background go), and `defringe` chokes the
semi-transparent rim and replaces the colours of edge pixels with the colours of the solid subject
next to them (no white or dark fringe when the cut-out is put on another background). An image
without alpha gets the model's mask as a fresh alpha channel.
"""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import adjust, segment, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

MATTING = "birefnet-matting"


class TransparencyFixerSettings(ToolSettings):
    defringe: int = Field(
        50, ge=0, le=100, description="How hard edge colours and the half-transparent rim are cleaned (0-100)"
    )
    outputFormat: Literal["png", "webp"] = Field("png", description="Output format (both keep transparency)")


def refine_alpha(alpha: pyvips.Image | None, mask: pyvips.Image) -> pyvips.Image:
    """The input's alpha, taken down where the model sees background; the mask itself if there was none."""
    if alpha is None:
        return mask
    # Model confidence above 2/3 keeps the input's alpha as it is; below, it fades the pixel out.
    keep = adjust.clamp(mask.cast("float") * (1.5 / 255), 0.0, 1.0)
    return (alpha.cast("float") * keep).cast("uchar")


def defringe(rgb: pyvips.Image, alpha: pyvips.Image, strength: float) -> tuple[pyvips.Image, pyvips.Image]:
    """Chokes the rim of `alpha` and pulls edge colours towards the nearby solid subject's colours."""
    if strength <= 0:
        return rgb, alpha
    a = alpha.cast("float") / 255
    choke = 0.4 * strength
    a = adjust.clamp((a - choke) / (1 - choke), 0.0, 1.0)
    solid = (alpha >= 242).ifthenelse(1.0, 0.0)
    sigma = 1.0 + 4.0 * strength
    num = segment.blur(rgb.cast("float") * solid, sigma)
    den = segment.blur(solid, sigma)
    inner = (den > 0.01).ifthenelse(num / (den + 1e-6), rgb.cast("float"))
    # Weight of the subject's colour: full for invisible pixels, `strength` at the half-transparent rim.
    w = adjust.clamp((1 - a) * (strength * 1.5) + (a < 0.01).ifthenelse(1.0, 0.0), 0.0, 1.0)
    colour = rgb.cast("float") * (1 - w) + inner * w
    return adjust.to_uchar(adjust.clamp(colour, 0, 255)).copy(interpretation="srgb"), adjust.to_uchar(a * 255)


@tool(
    id="transparency-fixer",
    section="image",
    title="PNG Transparency Fixer",
    description="Fix cut-outs with fringed, haloed or ragged transparency (AI matting on your own hardware).",
    settings=TransparencyFixerSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("png", "webp", "avif", "tiff", "gif", "jpeg"),
    long=True,
    feature="background-removal",
    models=("u2netp",),
)
def run(ctx: ToolContext, settings: TransparencyFixerSettings) -> ToolResult:
    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        rgb, alpha = segment.load_rgb(ctx.input)
        # What the model sees: the picture on white, so garbage colours under alpha 0 don't count.
        white = segment.solid(rgb.width, rgb.height, vips.WHITE)
        seen = rgb if alpha is None else segment.compose(rgb, alpha, white, decontaminate=False)
        seen = seen.copy_memory()
    model = segment.best_installed((MATTING,))
    ctx.progress(15, "Matting" if model == MATTING else "Finding the subject")
    found = segment.subject_mask(ctx.input.path, seen, model, key_extra=":on-white")
    ctx.check_cancelled()
    ctx.progress(70, "Cleaning the edges")
    with vips.vips_errors():
        fixed = refine_alpha(alpha, found.mask)
        colour, fixed = defringe(rgb, fixed, settings.defringe / 100)
        path = segment.save_as(ctx, adjust.join_alpha(colour, fixed), settings.outputFormat, "fixed")
        transparent = 1 - fixed.avg() / 255
    ctx.progress(100, "Done")
    data = {"matting": model == MATTING, "hadAlpha": alpha is not None, "transparent": round(transparent, 4)}
    return ToolResult([path], {**found.data(), **data})
