"""Image Compare: a difference score for two images, and a side-by-side, overlay or diff picture."""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import ExtraPart, InputFile, InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

GAP = 8


class CompareSettings(ToolSettings):
    mode: Literal["side-by-side", "overlay", "diff"] = Field(
        "diff",
        description="side-by-side: both images next to each other; overlay: the second at 50 % over the first; "
        "diff: the first dimmed with differing pixels in red",
    )
    diffThreshold: int = Field(
        10, ge=0, le=255, description="A pixel differs when its mean channel difference exceeds this (0-255)"
    )


def second_input(ctx: ToolContext) -> InputFile:
    """The comparison target: the 'compare' part, or a second 'files' upload (SnapOtter sends two files)."""
    if "compare" in ctx.extra:
        return ctx.extra["compare"]
    if len(ctx.inputs) > 1:
        return ctx.inputs[1]
    raise InputRejected("Send the second image as 'compare' (or two files)", 400, "NO_FILE")


def flat(source: InputFile) -> pyvips.Image:
    return draw.flatten(vips.first_page(vips.load(source.path, source.kind, sequential=False))).copy_memory()


def picture(mode: str, a: pyvips.Image, b: pyvips.Image, differs: pyvips.Image) -> pyvips.Image:
    if mode == "side-by-side":
        canvas = a.embed(0, 0, a.width + GAP + b.width, max(a.height, b.height), extend="white")
        return canvas.insert(b, a.width + GAP, 0)
    if mode == "overlay":
        return ((a.cast("float") + b.cast("float")) / 2).cast("uchar")
    # diff: a faded grey copy of the first image, differing pixels painted red.
    faded = (a.colourspace("b-w").cast("float") * 0.35 + 165).cast("uchar")
    faded = faded.bandjoin([faded, faded]).copy(interpretation="srgb")
    return differs.ifthenelse([255, 0, 0], faded)


@tool(
    id="compare",
    section="image",
    title="Image Compare",
    description="Compare two images (second file as 'compare'): difference score plus a side-by-side, overlay or diff.",
    settings=CompareSettings,
    inputs=Inputs(
        kinds=IMAGE_KINDS,
        min_files=1,
        max_files=2,
        min_total=2,
        extra=(ExtraPart("compare", kinds=IMAGE_KINDS, required=False, description="The image to compare against"),),
    ),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: CompareSettings) -> ToolResult:
    other = second_input(ctx)
    ctx.progress(5, "Comparing")
    with vips.vips_errors():
        a, b_original = flat(ctx.input), flat(other)
        b = b_original
        resized = (b.width, b.height) != (a.width, a.height)
        if resized:
            # Different sizes: the second is stretched onto the first's grid so pixels line up.
            b = b.resize(a.width / b.width, vscale=a.height / b.height)
            b = (
                b.crop(0, 0, min(b.width, a.width), min(b.height, a.height))
                .embed(0, 0, a.width, a.height, extend="copy")
                .copy_memory()
            )
        delta = (a.cast("int") - b.cast("int")).abs()
        per_pixel = delta.bandmean()
        differs = per_pixel > settings.diffThreshold
        total = a.width * a.height
        different = round(differs.avg() / 255 * total)
        mean_abs = float(delta.avg())
        image = picture(settings.mode, a, b_original if settings.mode == "side-by-side" else b, differs)
        out = vips.save(image, vips.output_path(ctx, "png", settings.mode.replace("-", "_")), vips.FORMATS["png"])
    data = {
        "mode": settings.mode,
        "similarity": round(100 - mean_abs / 255 * 100, 2),
        "meanAbsoluteDifference": round(mean_abs, 3),
        "diffPercent": round(different / total * 100, 3),
        "differentPixels": different,
        "totalPixels": total,
        "identical": mean_abs == 0,
        "dimensions": {"width": a.width, "height": a.height},
        "resized": resized,
    }
    ctx.progress(100, "Done")
    return ToolResult([out], data)
