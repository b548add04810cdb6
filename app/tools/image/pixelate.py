"""Pixelate: the whole image or one rectangle of it, in square blocks of the average colour."""

from __future__ import annotations

import pyvips
from pydantic import BaseModel, ConfigDict, Field

from app.engine.media import adjust, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool


class Region(BaseModel):
    model_config = ConfigDict(extra="forbid")

    left: int = Field(0, ge=0, description="Left edge in pixels")
    top: int = Field(0, ge=0, description="Top edge in pixels")
    width: int = Field(..., ge=1, description="Width in pixels")
    height: int = Field(..., ge=1, description="Height in pixels")


class PixelateSettings(ToolSettings):
    blockSize: int = Field(10, ge=2, le=128, description="Side of each block in pixels (2-128)")
    region: Region | None = Field(None, description="Only pixelate this rectangle; the whole image when left out")


def pixelate(image: pyvips.Image, block: int) -> pyvips.Image:
    """Blocks of `block` px holding their mean colour, aligned to the image's top-left corner."""
    width, height = image.width, image.height
    # Pad to whole blocks by repeating edge pixels, so partial blocks at the edges average real pixels.
    padded_w = -(-width // block) * block
    padded_h = -(-height // block) * block
    padded = image.embed(0, 0, padded_w, padded_h, extend="copy")
    if image.hasalpha():
        # Average premultiplied colour, so transparent pixels don't pull blocks towards black.
        small = padded.premultiply().shrink(block, block).unpremultiply()
    else:
        small = padded.shrink(block, block)
    big = small.zoom(block, block).crop(0, 0, width, height)
    return adjust.to_uchar(big) if big.format != "uchar" else big


@tool(
    id="pixelate",
    section="image",
    title="Pixelate",
    description="Pixelate a whole image or just a region of it (faces, plates, text).",
    settings=PixelateSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: PixelateSettings) -> ToolResult:
    ctx.progress(5, "Pixelating")
    block = settings.blockSize
    data: dict[str, object] = {"blockSize": block}
    with vips.vips_errors():
        image, fmt = adjust.load(ctx)
        image = adjust.to_rgb8(image)
        region = settings.region

        def one(frame: pyvips.Image) -> pyvips.Image:
            if region is None:
                return pixelate(frame, block)
            left, top = min(region.left, frame.width), min(region.top, frame.height)
            width = min(region.width, frame.width - left)
            height = min(region.height, frame.height - top)
            if width < 1 or height < 1:
                raise ToolFailure("The region lies outside the image")
            part = pixelate(frame.crop(left, top, width, height), block)
            return frame.insert(part, left, top)

        if region is not None:
            frame_h = vips.page_height(image)
            left, top = min(region.left, image.width), min(region.top, frame_h)
            data["region"] = {
                "left": left,
                "top": top,
                "width": min(region.width, image.width - left),
                "height": min(region.height, frame_h - top),
            }
        out = adjust.map_frames(image, one).copy(interpretation="srgb")
        path = adjust.save(ctx, out, fmt, "pixelated")
    ctx.progress(100, "Done")
    return ToolResult([path], data)
