"""Convert: re-encode an image (or a PSD/EPS design file) as JPEG, PNG, WebP, AVIF, TIFF, GIF, HEIC/HEIF or EPS."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.engine.media import eps, vips
from app.engine.media.sniff import DESIGN_KINDS, IMAGE_KINDS
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool

TargetFormat = Literal["jpg", "png", "webp", "avif", "tiff", "gif", "heic", "heif", "eps"]
_FORMAT = {
    "jpg": "jpeg",
    "png": "png",
    "webp": "webp",
    "avif": "avif",
    "tiff": "tiff",
    "gif": "gif",
    "heic": "heic",
    "heif": "heif",
}
# Content kind (sniff.py) of each target, for any-to-any conversion.
_KIND = {"jpg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "tiff": "tiff", "gif": "gif", "heic": "heif",
         "eps": "eps"}  # fmt: skip


class ConvertSettings(ToolSettings):
    format: TargetFormat = Field(
        "jpg", description="Output format (HEIC and HEIF are HEVC-coded, AVIF is AV1-coded; EPS holds the pixels)"
    )
    quality: int = Field(
        vips.DEFAULT_QUALITY, ge=1, le=100, description="Quality for lossy formats (JPEG, WebP, AVIF, HEIC/HEIF)"
    )
    effort: int | None = Field(
        None,
        ge=0,
        le=9,
        description="Encoder effort for AVIF (0-9) and WebP (0-6): higher is slower for a slightly smaller file; "
        "unset uses Lutra's measured default (AVIF 2, WebP 4). HEIC/HEIF take 0-9 too (this server's HEVC encoder "
        "may not vary with it); the other formats ignore it",
    )

    @model_validator(mode="after")
    def _effort_in_range(self) -> ConvertSettings:
        bounds = vips.EFFORT_RANGE.get(_FORMAT.get(self.format, ""))
        if self.effort is not None and bounds and not bounds[0] <= self.effort <= bounds[1]:
            raise ValueError(f"effort for {self.format} must be between {bounds[0]} and {bounds[1]}")
        return self


@tool(
    id="convert",
    section="image",
    title="Convert",
    description="Convert an image (or a Photoshop/EPS file) to JPEG, PNG, WebP, AVIF, TIFF, GIF, HEIC, HEIF or EPS.",
    settings=ConvertSettings,
    inputs=Inputs(kinds=(*IMAGE_KINDS, *DESIGN_KINDS)),
    formats=("jpeg", "png", "webp", "avif", "heic", "heif", "tiff", "gif", "bmp", "svg", "psd", "eps"),
    produces=tuple(Produces(kind, {"format": fmt}, preference=10) for fmt, kind in _KIND.items()),
)
def run(ctx: ToolContext, settings: ConvertSettings) -> ToolResult:
    source = eps.readable(ctx, ctx.input)
    ctx.progress(5, f"Converting to {settings.format.upper()}")
    if settings.format == "eps":
        with vips.vips_errors():
            image = vips.first_page(vips.load(source.path, source.kind, sequential=False))
            out = eps.write(image, vips.output_path(ctx, "eps"))
        ctx.progress(100, "Done")
        return ToolResult([out], {"format": "eps", "width": image.width, "height": image.height})
    fmt = vips.FORMATS[_FORMAT[settings.format]]
    with vips.vips_errors():
        # Animated GIF/WebP into GIF/WebP keeps every frame; any other target gets the first frame.
        image = vips.load(source.path, source.kind, all_pages=fmt.animated)
        ctx.check_cancelled()
        extra = {"effort": settings.effort} if settings.effort is not None and fmt.name in vips.EFFORT_RANGE else {}
        out = vips.save(image, vips.output_path(ctx, fmt.ext), fmt, settings.quality, **extra)
        result = {"format": settings.format, "width": image.width, "height": vips.page_height(image)}
    ctx.progress(100, "Done")
    return ToolResult([out], result)
