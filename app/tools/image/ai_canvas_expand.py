"""AI Canvas Expand (outpainting): grow the canvas on any side and fill the new area to match.

Tiers: fast mirrors the picture outwards and blurs it with the distance (no model, instant);
balanced runs LaMa once over the whole canvas at 512 px; high runs LaMa in windows along the new
border at up to full resolution (slower, sharper). balanced and high need the LaMa model (Object
Eraser & Colorize feature) and answer 501 FEATURE_NOT_INSTALLED without it rather than quietly
giving the fast result; with no tier given, balanced runs when LaMa is installed and fast otherwise
(the answer's `tier` says which). The original pixels are never changed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.config import get_settings
from app.engine.ai import bundles
from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

MAX_EXTEND = 8192
BUNDLE, LAMA = "object-eraser-colorize", "lama"  # as app/engine/media/inpaint.py (numpy: not imported here)


class CanvasExpandSettings(ToolSettings):
    extendTop: int = Field(0, ge=0, le=MAX_EXTEND, description="Pixels to add above")
    extendRight: int = Field(0, ge=0, le=MAX_EXTEND, description="Pixels to add on the right")
    extendBottom: int = Field(0, ge=0, le=MAX_EXTEND, description="Pixels to add below")
    extendLeft: int = Field(0, ge=0, le=MAX_EXTEND, description="Pixels to add on the left")
    tier: Literal["fast", "balanced", "high"] | None = Field(
        None,
        description="fast: mirrored and blurred, no model; balanced: LaMa over the whole canvas; "
        "high: LaMa along the border at full resolution (slowest). balanced and high need LaMa (501 without "
        "it); empty: balanced when LaMa is installed, else fast",
    )
    format: Literal["original", "png", "jpeg", "jpg", "webp", "avif", "tiff"] = Field(
        "original", description="Output format; original keeps the input's (PNG for formats Lutra can't write)"
    )
    quality: int = Field(vips.DEFAULT_QUALITY, ge=1, le=100, description="Quality for lossy outputs")


def needs_lama(settings: CanvasExpandSettings) -> None:
    """balanced and high promise LaMa: 501 FEATURE_NOT_INSTALLED at once when it is missing."""
    if settings.tier in ("balanced", "high"):
        bundles.model_path(LAMA, BUNDLE)


def chosen_tier(settings: CanvasExpandSettings) -> str:
    if settings.tier is not None:
        return settings.tier
    return "balanced" if bundles.model_present(LAMA) else "fast"


@tool(
    id="ai-canvas-expand",
    section="image",
    title="AI Canvas Expand",
    description="Extend an image's canvas on any side and fill the new area to match (outpainting). "
    "Tiers: fast (no model), balanced and high (LaMa; 501 FEATURE_NOT_INSTALLED without it); default: the best "
    "installed.",
    settings=CanvasExpandSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature=BUNDLE,
    preflight=needs_lama,
)
def run(ctx: ToolContext, settings: CanvasExpandSettings) -> ToolResult:
    from app.engine.media import arrays, inpaint

    s = settings
    if not (s.extendTop or s.extendRight or s.extendBottom or s.extendLeft):
        raise InputRejected("Nothing to expand: set extendTop, extendRight, extendBottom or extendLeft", 400)
    width, height = vips.upright_size(ctx.input.path)
    new_w, new_h = width + s.extendLeft + s.extendRight, height + s.extendTop + s.extendBottom
    limit = get_settings().max_megapixels
    if new_w * new_h > limit * 1_000_000:
        raise InputRejected(
            f"The result would be {new_w}x{new_h}, over the {limit} megapixel limit (MAX_MEGAPIXELS)",
            400,
            "IMAGE_TOO_LARGE",
        )
    tier = chosen_tier(s)
    model = None if tier == "fast" else bundles.model_path(LAMA, BUNDLE)
    ctx.progress(2, "Loading the image")
    with vips.vips_errors():
        picture = arrays.load(ctx)
    ctx.check_cancelled()
    sides = (s.extendTop, s.extendRight, s.extendBottom, s.extendLeft)
    if model is None:
        ctx.progress(20, "Extending the canvas")
        rgb = inpaint.extend_fast(picture.rgb, *sides)
    else:
        ctx.progress(10, "Filling the new area with LaMa")

        def step(done: int, total: int) -> None:
            ctx.check_cancelled()
            ctx.progress(10 + 80 * done / total, f"Filling: part {done} of {total}")

        rgb = inpaint.extend_lama(picture.rgb, *sides, model, high=tier == "high", progress=step)
    alpha = None
    if picture.alpha is not None:
        import cv2

        # The new area is filled, so opaque; the picture keeps its own transparency.
        alpha = cv2.copyMakeBorder(
            picture.alpha, s.extendTop, s.extendBottom, s.extendLeft, s.extendRight, cv2.BORDER_CONSTANT, value=255
        )
    ctx.progress(94, "Saving")
    fmt = arrays.format_for(picture, "jpeg" if s.format == "jpg" else s.format)
    with vips.vips_errors():
        image = arrays.to_vips(rgb, alpha, picture.source)
        out = vips.save(image, vips.output_path(ctx, fmt.ext, "expanded"), fmt, s.quality)
    ctx.progress(100, "Done")
    return ToolResult(
        [out],
        {
            "width": new_w,
            "height": new_h,
            "originalWidth": width,
            "originalHeight": height,
            "tier": tier,
            "engine": "lama" if model is not None else "opencv",
        },
    )
