"""Resize: to a width and/or height with a fit mode, by percentage, or to a social media preset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pyvips
from pydantic import Field, model_validator

from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

# Social media presets: (width, height) in pixels. A preset without an explicit `fit` fills the
# frame exactly (cover), which is what the platforms display.
PRESETS: dict[str, tuple[int, int]] = {
    "instagram-square": (1080, 1080),
    "instagram-portrait": (1080, 1350),
    "instagram-story": (1080, 1920),
    "instagram-landscape": (1080, 566),
    "facebook-post": (1200, 630),
    "facebook-cover": (820, 312),
    "facebook-story": (1080, 1920),
    "twitter-post": (1600, 900),
    "twitter-header": (1500, 500),
    "linkedin-post": (1200, 627),
    "linkedin-cover": (1584, 396),
    "linkedin-profile": (400, 400),
    "youtube-thumbnail": (1280, 720),
    "youtube-banner": (2560, 1440),
    "pinterest-pin": (1000, 1500),
    "tiktok-video": (1080, 1920),
    "snapchat-story": (1080, 1920),
    "whatsapp-profile": (500, 500),
    "discord-avatar": (128, 128),
    "twitch-banner": (1200, 480),
    "reddit-banner": (1920, 384),
    "tumblr-post": (1280, 1920),
    "threads-post": (1080, 1350),
}
Preset = Literal[
    "instagram-square",
    "instagram-portrait",
    "instagram-story",
    "instagram-landscape",
    "facebook-post",
    "facebook-cover",
    "facebook-story",
    "twitter-post",
    "twitter-header",
    "linkedin-post",
    "linkedin-cover",
    "linkedin-profile",
    "youtube-thumbnail",
    "youtube-banner",
    "pinterest-pin",
    "tiktok-video",
    "snapchat-story",
    "whatsapp-profile",
    "discord-avatar",
    "twitch-banner",
    "reddit-banner",
    "tumblr-post",
    "threads-post",
]
Fit = Literal["cover", "contain", "fill", "inside", "outside"]

MAX_SIDE = 16384
_UNBOUNDED = 10_000_000  # libvips' largest coordinate: "no limit" on the side the user left out


class ResizeSettings(ToolSettings):
    width: int | None = Field(None, ge=1, le=MAX_SIDE, description="Target width in pixels")
    height: int | None = Field(None, ge=1, le=MAX_SIDE, description="Target height in pixels")
    fit: Fit = Field(
        "contain",
        description=(
            "How the image fits width x height when both are given: cover (fill and crop the overflow), "
            "contain (fit inside and pad to exactly width x height: transparent, or white for JPEG), "
            "fill (stretch, ignoring the aspect ratio), inside (fit inside, no padding), "
            "outside (cover both sides, no crop). With a single dimension the aspect ratio is always kept."
        ),
    )
    percentage: float | None = Field(
        None, ge=1, le=1000, description="Scale both sides by this percentage (overrides width/height)"
    )
    withoutEnlargement: bool = Field(False, description="Never make the image larger than the original")
    preset: Preset | None = Field(
        None,
        description="Social media size (overrides width, height and percentage); fit defaults to cover",
    )
    quality: int | None = Field(None, ge=1, le=100, description="Quality for lossy outputs (JPEG, WebP, AVIF, HEIC)")

    @model_validator(mode="after")
    def _needs_a_size(self) -> ResizeSettings:
        if self.width is None and self.height is None and self.percentage is None and self.preset is None:
            raise ValueError("give a width, height, percentage or preset")
        return self


Thumb = Callable[..., "pyvips.Image"]


def _plan(settings: ResizeSettings, src_w: int, src_h: int) -> tuple[Fit, int | None, int | None]:
    """Resolves presets and percentages into (fit, width, height); None means 'unbounded'."""
    if settings.preset is not None:
        width, height = PRESETS[settings.preset]
        fit: Fit = settings.fit if "fit" in settings.model_fields_set else "cover"
        return fit, width, height
    if settings.percentage is not None:
        scale = settings.percentage / 100
        if settings.withoutEnlargement:
            scale = min(scale, 1.0)
        return "fill", max(1, round(src_w * scale)), max(1, round(src_h * scale))
    if settings.width is None or settings.height is None:
        return "inside", settings.width, settings.height
    return settings.fit, settings.width, settings.height


def _resize(
    thumb: Thumb, src_w: int, src_h: int, plan: tuple[Fit, int | None, int | None], grow: bool, fmt: vips.Format
) -> pyvips.Image:
    """One image (or one frame) through libvips' thumbnail, which shrinks on load where it can."""
    fit, width, height = plan
    size = "both" if grow else "down"
    if fit == "inside":
        return thumb(width or _UNBOUNDED, height=height or _UNBOUNDED, size=size)
    assert width is not None and height is not None
    if fit == "cover":
        return thumb(width, height=height, size=size, crop="centre")
    if fit == "fill":
        if not grow:
            width, height = min(width, src_w), min(height, src_h)
        return thumb(width, height=height, size="force")
    if fit == "outside":
        scale = max(width / src_w, height / src_h)
        if not grow:
            scale = min(scale, 1.0)
        return thumb(max(1, round(src_w * scale)), height=max(1, round(src_h * scale)), size="force")
    # contain: fit inside, then pad to exactly width x height.
    if not grow and src_w <= width and src_h <= height:
        return thumb(src_w, height=src_h, size="down")  # already fits: leave it as it is
    inner = thumb(width, height=height, size=size)
    if fmt.alpha:
        inner = vips.ensure_alpha(inner)
    return inner.gravity("centre", width, height, extend="background", background=vips.background_for(inner, fmt))


@tool(
    id="resize",
    section="image",
    title="Resize",
    description="Resize by width/height with a fit mode, by percentage, or to one of 23 social media presets.",
    settings=ResizeSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: ResizeSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.output_format(source.kind)
    ctx.progress(5, "Resizing")
    with vips.vips_errors():
        head = pyvips.Image.new_from_file(str(source.path))
        src_w, src_h = vips.upright_size(head)
        plan = _plan(settings, src_w, src_h)
        grow = not settings.withoutEnlargement
        if fmt.animated and vips.page_count(head) > 1:
            # Animated GIF/WebP: every frame is resized the same way, so the animation survives.
            strip = vips.load(source.path, source.kind, sequential=False, all_pages=True)

            def frame_resize(frame: pyvips.Image) -> pyvips.Image:
                def thumb(w: int, **kw: Any) -> pyvips.Image:
                    return frame.thumbnail_image(w, **kw)

                return _resize(thumb, src_w, src_h, plan, grow, fmt)

            image = vips.map_pages(strip, frame_resize)
        else:

            def thumb(w: int, **kw: Any) -> pyvips.Image:
                return pyvips.Image.thumbnail(str(source.path), w, fail_on="truncated", **kw)

            image = _resize(thumb, src_w, src_h, plan, grow, fmt)
        ctx.check_cancelled()
        out = vips.save(image, vips.output_path(ctx, fmt.ext, "resized"), fmt, settings.quality)
        result = {"width": image.width, "height": vips.page_height(image)}
    ctx.progress(100, "Done")
    return ToolResult([out], result)
