"""Crop: cut a rectangle out of the image, in pixels or in percent of its size."""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field, model_validator

from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool


class CropSettings(ToolSettings):
    left: float = Field(0, ge=0, description="Left edge of the crop area (pixels or percent, see unit)")
    top: float = Field(0, ge=0, description="Top edge of the crop area (pixels or percent, see unit)")
    width: float = Field(gt=0, description="Width of the crop area (pixels or percent, see unit)")
    height: float = Field(gt=0, description="Height of the crop area (pixels or percent, see unit)")
    unit: Literal["px", "percent"] = Field("px", description="Unit of left, top, width and height")

    @model_validator(mode="after")
    def _percent_in_range(self) -> CropSettings:
        if self.unit == "percent":
            for name in ("left", "top", "width", "height"):
                if getattr(self, name) > 100:
                    raise ValueError(f"{name} is a percentage and cannot exceed 100")
        return self


def _region(settings: CropSettings, width: int, height: int) -> tuple[int, int, int, int]:
    """The crop rectangle in pixels; refused (naming the image's size) when any part lies outside it."""
    values = (settings.left, settings.top, settings.width, settings.height)
    unit = "px"
    if settings.unit == "percent":
        sx, sy = width / 100, height / 100
        values = (values[0] * sx, values[1] * sy, values[2] * sx, values[3] * sy)
        unit = "px, from the percentages"
    left, top = round(values[0]), round(values[1])
    right, bottom = values[0] + values[2], values[1] + values[3]
    # Half a pixel of slack: percentages that add up to 100 may round a hair past the edge.
    if left >= width or top >= height or right > width + 0.5 or bottom > height + 0.5:
        raise InputRejected(
            f"The crop area (left {left}, top {top}, {round(values[2])}x{round(values[3])} {unit}) extends beyond "
            f"the image, which is {width}x{height} pixels",
            422,
            "CROP_OUT_OF_BOUNDS",
        )
    crop_w = max(1, min(round(values[2]), width - left))
    crop_h = max(1, min(round(values[3]), height - top))
    return left, top, crop_w, crop_h


@tool(
    id="crop",
    section="image",
    title="Crop",
    description="Crop a rectangle given by left, top, width and height, in pixels or percent.",
    settings=CropSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: CropSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.output_format(source.kind)
    ctx.progress(5, "Cropping")
    with vips.vips_errors():
        width, height = vips.upright_size(source.path)
        left, top, crop_w, crop_h = _region(settings, width, height)
        # Cropping reads rows top to bottom, so the file can stream (unless EXIF says to turn it).
        image = vips.load(source.path, source.kind, all_pages=fmt.animated)

        def cut(frame: pyvips.Image) -> pyvips.Image:
            return frame.extract_area(left, top, crop_w, crop_h)

        image = vips.map_pages(image, cut) if fmt.animated else cut(image)
        ctx.check_cancelled()
        out = vips.save(image, vips.output_path(ctx, fmt.ext, "cropped"), fmt)
    ctx.progress(100, "Done")
    return ToolResult([out], {"width": crop_w, "height": crop_h, "left": left, "top": top})
