"""Beautify Screenshot: a screenshot on a background with padding, rounded corners, a shadow, an optional
window or device frame (drawn here, no assets), a social media canvas size and a watermark."""

from __future__ import annotations

from typing import Annotated, Literal

import pyvips
from pydantic import Field

from app.engine.media import layout, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import ExtraPart, InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

Frame = Literal[
    "none",
    "macos-light",
    "macos-dark",
    "windows-light",
    "windows-dark",
    "browser-light",
    "browser-dark",
    "iphone",
    "macbook",
    "ipad",
]
SocialPreset = Literal["none", "twitter", "linkedin", "instagram-square", "instagram-story", "facebook", "producthunt"]
SOCIAL_SIZES: dict[str, tuple[int, int]] = {
    "twitter": (1600, 900),
    "linkedin": (1200, 627),
    "instagram-square": (1080, 1080),
    "instagram-story": (1080, 1920),
    "facebook": (1200, 630),
    "producthunt": (1270, 760),
}
TRAFFIC_LIGHTS = ((255, 95, 87, 255), (254, 188, 46, 255), (40, 200, 64, 255))


class BeautifySettings(ToolSettings):
    backgroundType: Literal["solid", "linear-gradient", "radial-gradient", "image", "transparent"] = Field(
        "linear-gradient",
        description="Background behind the screenshot; 'image' uses the uploaded `background` file",
    )
    backgroundColor: str = Field("#FFFFFF", pattern=layout.HEX_PATTERN, description="Colour for the solid background")
    gradientStops: list[Annotated[str, Field(pattern=layout.HEX_PATTERN)]] = Field(
        ["#667EEA", "#764BA2"],
        min_length=2,
        max_length=8,
        description="Gradient colours (hex), evenly spaced",
    )
    gradientAngle: float = Field(135, ge=0, le=360, description="Linear gradient direction in degrees (CSS-style)")
    padding: int = Field(64, ge=0, le=1000, description="Space around the screenshot, in pixels")
    borderRadius: int = Field(12, ge=0, le=200, description="Corner radius of the screenshot or window, in pixels")
    shadowPreset: layout.ShadowPreset = Field("medium", description="Drop shadow: none, small, medium or large")
    frame: Frame = Field("none", description="Window or device frame drawn around the screenshot")
    socialPreset: SocialPreset = Field(
        "none",
        description=(
            "Canvas size: twitter 1600x900, linkedin 1200x627, instagram-square 1080x1080, "
            "instagram-story 1080x1920, facebook 1200x630, producthunt 1270x760; the screenshot is scaled to fit"
        ),
    )
    watermarkText: str = Field("", max_length=100, description="Small text in the bottom-right corner")
    outputFormat: layout.OutputFormat = Field("png", description="png, jpeg or webp")
    quality: int = Field(90, ge=1, le=100, description="Quality for JPEG/WebP")

    def stops(self) -> list[layout.RGBA]:
        return [layout.parse_colour(c) for c in self.gradientStops]


# --- frames ----------------------------------------------------------------------------------------


def _window(image: pyvips.Image, frame: str, radius: int) -> pyvips.Image:
    """A desktop window (macOS, Windows) or browser: a title bar above the screenshot, drawn with Pillow."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    dark = frame.endswith("-dark")
    kind = frame.split("-")[0]
    w = image.width
    bar = max(20, round(min(w, 2400) * 0.035))
    if kind == "browser":
        bar = round(bar * 1.6)
    bar_colour = {
        ("macos", False): (232, 232, 234, 255),
        ("macos", True): (43, 43, 46, 255),
        ("windows", False): (243, 243, 243, 255),
        ("windows", True): (32, 32, 32, 255),
        ("browser", False): (222, 225, 230, 255),
        ("browser", True): (53, 54, 58, 255),
    }[(kind, dark)]
    glyph = (200, 200, 200, 255) if dark else (60, 60, 60, 255)
    head = PILImage.new("RGBA", (w, bar), bar_colour)
    draw = ImageDraw.Draw(head)
    if kind in ("macos", "browser"):
        d = max(6, round(min(bar, 32) * 0.45))
        cy = (bar if kind == "macos" else round(bar / 1.6)) // 2
        for i, colour in enumerate(TRAFFIC_LIGHTS):
            cx = round(d * 1.2 + i * d * 1.6)
            draw.ellipse((cx - d // 2, cy - d // 2, cx + d // 2, cy + d // 2), fill=colour)
        if kind == "browser":
            field = (32, 33, 36, 255) if dark else (255, 255, 255, 255)
            left, right = round(d * 6), max(round(d * 6) + 10, w - round(d * 2))
            top, bottom = round(bar * 0.18), round(bar * 0.82)
            draw.rounded_rectangle((left, top, right, bottom), radius=(bottom - top) // 2, fill=field)
    else:  # windows: minimise, maximise and close glyphs on the right
        s = max(4, bar // 4)
        cy = bar // 2
        for i, shape in enumerate(("close", "max", "min")):
            cx = w - round(bar * 0.9) - i * round(bar * 1.5)
            if shape == "min":
                draw.line((cx - s, cy, cx + s, cy), fill=glyph, width=max(1, s // 4))
            elif shape == "max":
                draw.rectangle((cx - s, cy - s, cx + s, cy + s), outline=glyph, width=max(1, s // 4))
            else:
                draw.line((cx - s, cy - s, cx + s, cy + s), fill=glyph, width=max(1, s // 4))
                draw.line((cx - s, cy + s, cx + s, cy - s), fill=glyph, width=max(1, s // 4))
    window = layout.canvas(w, image.height + bar, bar_colour)
    window = layout.composite(window, [(layout.from_pil(head), 0, 0), (image, 0, bar)])
    return layout.round_corners(window, radius if kind != "windows" else min(radius, 8))


def _device(image: pyvips.Image, frame: str) -> pyvips.Image:
    """A phone, tablet or laptop: rounded-rectangle bezels around the screenshot."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    w, h = image.width, image.height
    short = min(w, h)
    if frame == "macbook":
        b = max(8, round(w * 0.03))
        lid_w, lid_h = w + 2 * b, h + b + round(b * 1.4)
        base_h = max(8, round(w * 0.035))
        overhang = round(w * 0.08)
        total_w, total_h = lid_w + 2 * overhang, lid_h + base_h
        art = PILImage.new("RGBA", (total_w, total_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(art)
        draw.rounded_rectangle((overhang, 0, overhang + lid_w - 1, lid_h + b), radius=b * 2, fill=(24, 24, 26, 255))
        draw.rounded_rectangle((0, lid_h, total_w - 1, total_h - 1), radius=base_h // 2, fill=(201, 202, 206, 255))
        draw.rectangle((0, lid_h, total_w - 1, lid_h + base_h // 3), fill=(214, 215, 219, 255))
        notch_w = round(lid_w * 0.15)
        draw.rounded_rectangle(
            ((total_w - notch_w) // 2, lid_h, (total_w + notch_w) // 2, lid_h + base_h // 3),
            radius=max(1, base_h // 6),
            fill=(160, 161, 166, 255),
        )
        return layout.composite(layout.from_pil(art), [(image, overhang + b, round(b * 1.4))])
    if frame == "iphone":
        b = max(8, round(short * 0.045))
        outer_r = round(min(w + 2 * b, h + 2 * b) * 0.16)
        colour = (17, 17, 19, 255)
    else:  # ipad
        b = max(10, round(short * 0.05))
        outer_r = round(min(w + 2 * b, h + 2 * b) * 0.06)
        colour = (28, 28, 30, 255)
    total_w, total_h = w + 2 * b, h + 2 * b
    body = layout.set_alpha(layout.canvas(total_w, total_h, colour), layout.rounded_mask(total_w, total_h, outer_r))
    screen = layout.round_corners(image, max(0, outer_r - b))
    art = PILImage.new("RGBA", (total_w, total_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(art)
    if frame == "iphone":  # the Dynamic Island: a pill at the top of the screen
        pill_w, pill_h = round(w * 0.3), max(4, round(b * 1.1))
        top = b + round(b * 0.5)
        draw.rounded_rectangle(
            ((total_w - pill_w) // 2, top, (total_w + pill_w) // 2, top + pill_h), radius=pill_h // 2, fill=colour
        )
    else:  # front camera dot in the top bezel
        r = max(2, b // 5)
        draw.ellipse((total_w // 2 - r, b // 2 - r, total_w // 2 + r, b // 2 + r), fill=(60, 60, 66, 255))
    return layout.composite(body, [(screen, b, b), (layout.from_pil(art), 0, 0)])


def framed(image: pyvips.Image, settings: BeautifySettings) -> pyvips.Image:
    if settings.frame == "none":
        return layout.round_corners(image, settings.borderRadius)
    if settings.frame in ("iphone", "ipad", "macbook"):
        return _device(image, settings.frame)
    return _window(image, settings.frame, settings.borderRadius)


# --- background ------------------------------------------------------------------------------------


def _background(ctx: ToolContext, settings: BeautifySettings, width: int, height: int) -> pyvips.Image:
    kind = settings.backgroundType
    if kind == "solid":
        return layout.canvas(width, height, layout.parse_colour(settings.backgroundColor))
    if kind == "linear-gradient":
        return layout.linear_gradient(width, height, settings.stops(), settings.gradientAngle)
    if kind == "radial-gradient":
        return layout.radial_gradient(width, height, settings.stops())
    if kind == "image":
        part = ctx.extra.get("background")
        if part is None:
            raise InputRejected("backgroundType 'image' needs a 'background' file", 400, "NO_FILE")
        picture = layout.load_rgba(part.path, part.kind, max_side=max(width, height))
        picture = layout.cover(picture, width, height)
        return picture[:3].bandjoin(255).copy(interpretation="srgb")
    return layout.canvas(width, height, layout.TRANSPARENT)


@tool(
    id="beautify",
    section="image",
    title="Beautify Screenshot",
    description=(
        "Place a screenshot on a gradient, colour or image background with padding, rounded corners, "
        "a shadow, window or device frames and social media sizes."
    ),
    settings=BeautifySettings,
    inputs=Inputs(
        kinds=IMAGE_KINDS,
        extra=(
            ExtraPart(
                "background", kinds=IMAGE_KINDS, required=False, description="Background image (backgroundType image)"
            ),
        ),
    ),
)
def run(ctx: ToolContext, settings: BeautifySettings) -> ToolResult:
    source = ctx.input
    with vips.vips_errors():
        image = layout.load_rgba(source.path, source.kind, max_side=4096)
        ctx.progress(20, "Framing")
        content = framed(image, settings)
        pad = settings.padding
        if settings.socialPreset != "none":
            width, height = SOCIAL_SIZES[settings.socialPreset]
            # Fit the framed screenshot and its shadow inside the canvas minus the padding.
            room_w, room_h = max(16, width - 2 * pad), max(16, height - 2 * pad)
            margin = layout.shadow_margin(content, settings.shadowPreset)
            scale = min(room_w / (content.width + 2 * margin), room_h / (content.height + 2 * margin))
            content = layout.resize(content, scale)
            content, margin = layout.drop_shadow(content, settings.shadowPreset)
        else:
            content, margin = layout.drop_shadow(content, settings.shadowPreset)
            width, height = content.width + 2 * max(0, pad - margin), content.height + 2 * max(0, pad - margin)
        layout.check_size(width, height)
        ctx.check_cancelled()
        ctx.progress(60, "Composing")
        base = _background(ctx, settings, width, height)
        result = layout.composite(base, [(content, (width - content.width) // 2, (height - content.height) // 2)])
        if settings.watermarkText.strip():
            size = max(10, round(height * 0.025))
            text = layout.text_layer(settings.watermarkText.strip(), size, (255, 255, 255, 200), stroke=(0, 0, 0, 90))
            edge = max(4, round(size * 0.8))
            result = layout.composite(result, [(text, width - text.width - edge, height - text.height - edge)])
        out = layout.save_rgba(
            result, vips.output_path(ctx, "png", "beautified"), settings.outputFormat, settings.quality
        )
    return ToolResult([out], {"width": width, "height": height})
