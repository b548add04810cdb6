"""Object Eraser: paint over what should go (the `mask` part, white on black) and it is filled from
its surroundings. LaMa when the model is installed (Object Eraser & Colorize feature), OpenCV's
inpainting otherwise; the answer's `engine` says which ran."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import ExtraPart, Inputs, ToolContext, ToolResult, ToolSettings, tool


class EraseObjectSettings(ToolSettings):
    format: Literal["original", "png", "jpeg", "jpg", "webp", "avif", "tiff"] = Field(
        "original", description="Output format; original keeps the input's (PNG for formats Lutra can't write)"
    )
    quality: int = Field(vips.DEFAULT_QUALITY, ge=1, le=100, description="Quality for lossy outputs")


@tool(
    id="erase-object",
    section="image",
    title="Object Eraser",
    description="Remove objects: send the picture and a mask (white where to erase, black elsewhere) as the "
    "'mask' part. Uses LaMa when installed, OpenCV inpainting otherwise; the answer names the engine.",
    settings=EraseObjectSettings,
    inputs=Inputs(
        kinds=IMAGE_KINDS,
        extra=(
            ExtraPart(
                "mask",
                kinds=IMAGE_KINDS,
                description="White (or any light colour) where to erase, black or transparent elsewhere; "
                "stretched to the picture's size",
            ),
        ),
    ),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature="object-eraser-colorize",
)
def run(ctx: ToolContext, settings: EraseObjectSettings) -> ToolResult:
    from app.engine.media import arrays, inpaint

    ctx.progress(2, "Loading the image and the mask")
    with vips.vips_errors():
        picture = arrays.load(ctx)
        mask = inpaint.load_mask(ctx.extra["mask"], picture.width, picture.height)
    ctx.check_cancelled()
    engine = "lama" if inpaint.lama_path() is not None else "opencv"
    ctx.progress(10, "Erasing with LaMa" if engine == "lama" else "Erasing (OpenCV inpainting)")

    def step(done: int, total: int) -> None:
        ctx.check_cancelled()
        ctx.progress(10 + 80 * done / total, f"Filled region {done} of {total}")

    rgb, engine = inpaint.erase(picture.rgb, mask, step)
    ctx.progress(92, "Saving")
    fmt = arrays.format_for(picture, "jpeg" if settings.format == "jpg" else settings.format)
    with vips.vips_errors():
        out = arrays.save(ctx, picture, rgb, "erased", fmt, settings.quality)
    ctx.progress(100, "Done")
    return ToolResult(
        [out],
        {"engine": engine, "width": picture.width, "height": picture.height, "maskedPixels": int(mask.sum())},
    )
