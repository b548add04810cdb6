"""Shared helpers for the layout and composition tools: colours, canvases, masks, shadows, gradients,
text drawn with Pillow, and bundling several outputs.

Pixel work stays in libvips (8-bit sRGB with alpha throughout, so every helper composes with every
other); Pillow only draws shapes and text, which libvips can't do without Pango.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyvips

from app.engine.media import vips
from app.engine.tool import ToolContext, ToolFailure

# Pillow is imported inside the functions that draw, so the server process (which imports every
# tool module for its settings model) never loads it; only worker processes running a tool do.
if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageFont

RGBA = tuple[int, int, int, int]
HEX_PATTERN = r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
# A hex colour or the word "transparent" (for settings where "no colour" is a choice).
COLOUR_PATTERN = r"^(transparent|#?([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}))$"
_HEX = re.compile(HEX_PATTERN)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
MAX_CANVAS_SIDE = 16384
TRANSPARENT: RGBA = (0, 0, 0, 0)


# --- colours -------------------------------------------------------------------------------------


def parse_colour(value: str) -> RGBA:
    """#RGB, #RGBA, #RRGGBB or #RRGGBBAA (the '#' optional) to an (r, g, b, a) tuple."""
    if not _HEX.match(value.strip()):
        raise ValueError(f"not a hex colour: {value!r}")
    digits = value.strip().lstrip("#")
    if len(digits) in (3, 4):
        digits = "".join(c * 2 for c in digits)
    if len(digits) == 6:
        digits += "ff"
    r, g, b, a = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
    return r, g, b, a


def colour_or_transparent(value: str) -> RGBA:
    return TRANSPARENT if value.strip().lower() in ("transparent", "none", "") else parse_colour(value)


# --- images --------------------------------------------------------------------------------------


def to_rgba(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB with an alpha band: the one pixel shape every helper here takes and returns."""
    if image.coding != "none":
        image = image.decode()
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    if image.bands in (1, 2):  # grey (with or without alpha) -> RGB(A)
        grey = image[0]
        image = grey.bandjoin([grey, grey] + ([image[1]] if image.bands == 2 else []))
        image = image.copy(interpretation="srgb")
    if image.bands == 3:
        image = image.bandjoin(255)
    return image[:4].copy(interpretation="srgb")


def load_rgba(path: Path, kind: str, *, max_side: int | None = None) -> pyvips.Image:
    """The upright first frame of any readable image as RGBA, shrunk on load when max_side is given."""
    if max_side is not None and kind != "svg":
        image = pyvips.Image.thumbnail(str(path), max_side, height=max_side, size="down", fail_on="truncated")
    else:
        image = vips.first_page(vips.load(path, kind, sequential=False))
    return to_rgba(image).copy_memory()


def canvas(width: int, height: int, colour: RGBA) -> pyvips.Image:
    check_size(width, height)
    return (pyvips.Image.black(width, height, bands=4) + list(colour)).cast("uchar").copy(interpretation="srgb")


def check_size(width: int, height: int) -> None:
    if width > MAX_CANVAS_SIDE or height > MAX_CANVAS_SIDE:
        raise ToolFailure(f"the result would be {width}x{height} px, over the {MAX_CANVAS_SIDE} px limit")


def cover(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Scales and centre-crops to exactly width x height (CSS object-fit: cover)."""
    width, height = max(1, width), max(1, height)
    scale = max(width / image.width, height / image.height)
    scaled = resize(image, scale)
    left = max(0, (scaled.width - width) // 2)
    top = max(0, (scaled.height - height) // 2)
    return scaled.crop(left, top, min(width, scaled.width), min(height, scaled.height)).gravity(
        "centre", width, height, extend="copy"
    )


def contain(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Scales to fit inside width x height, keeping the aspect ratio (no padding)."""
    return resize(image, min(width / image.width, height / image.height))


def resize(image: pyvips.Image, scale: float) -> pyvips.Image:
    """Scales an RGBA image; alpha is premultiplied so transparent edges don't darken."""
    if abs(scale - 1.0) < 1e-9:
        return image
    return image.premultiply().resize(scale, kernel="lanczos3").unpremultiply().cast("uchar")


def composite(base: pyvips.Image, layers: Sequence[tuple[pyvips.Image, int, int]]) -> pyvips.Image:
    """Places RGBA layers on an RGBA base at (x, y), 'over' blending, in one libvips operation."""
    if not layers:
        return base
    images = [layer for layer, _, _ in layers]
    out = base.composite(
        images,
        ["over"] * len(images),
        x=[x for _, x, _ in layers],
        y=[y for _, _, y in layers],
        compositing_space="srgb",
    )
    return out.cast("uchar").copy(interpretation="srgb")


def set_alpha(image: pyvips.Image, mask: pyvips.Image) -> pyvips.Image:
    """Multiplies the image's alpha by a one-band 0-255 mask of the same size."""
    alpha = (image[3] * mask / 255).cast("uchar")
    return image[:3].bandjoin(alpha).copy(interpretation="srgb")


# --- shapes --------------------------------------------------------------------------------------


def _from_pil(image: PILImage.Image) -> pyvips.Image:
    mode_bands = {"L": 1, "RGB": 3, "RGBA": 4}
    bands = mode_bands[image.mode]
    out = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, bands, "uchar")
    return out.copy(interpretation="b-w" if bands == 1 else "srgb")


def from_pil(image: PILImage.Image) -> pyvips.Image:
    """A Pillow image as a libvips one (RGBA stays RGBA, L stays one band)."""
    if image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGBA")
    return _from_pil(image)


def to_pil(image: pyvips.Image) -> PILImage.Image:
    from PIL import Image as PILImage

    rgba = to_rgba(image)
    return PILImage.frombytes("RGBA", (rgba.width, rgba.height), rgba.write_to_memory())


def rounded_mask(width: int, height: int, radius: float, supersample: int = 4) -> pyvips.Image:
    """A one-band 0/255 mask of a rounded rectangle, anti-aliased by drawing larger and shrinking."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    radius = max(0.0, min(radius, width / 2, height / 2))
    if radius < 0.5:
        return pyvips.Image.black(width, height) + 255
    s = supersample
    mask = PILImage.new("L", (width * s, height * s), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, width * s - 1, height * s - 1), radius=radius * s, fill=255)
    return from_pil(mask.resize((width, height), PILImage.Resampling.BOX)).cast("uchar")


def ellipse_mask(width: int, height: int, inset: float = 0.0) -> pyvips.Image:
    """A one-band anti-aliased ellipse filling width x height, shrunk by `inset` px on every side."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    s = 4
    mask = PILImage.new("L", (width * s, height * s), 0)
    box = (inset * s, inset * s, (width - inset) * s - 1, (height - inset) * s - 1)
    if box[2] > box[0] and box[3] > box[1]:
        ImageDraw.Draw(mask).ellipse(box, fill=255)
    return from_pil(mask.resize((width, height), PILImage.Resampling.BOX)).cast("uchar")


def round_corners(image: pyvips.Image, radius: float) -> pyvips.Image:
    if radius < 0.5:
        return image
    return set_alpha(image, rounded_mask(image.width, image.height, radius))


ShadowPreset = Literal["none", "small", "medium", "large"]
# (blur sigma, y offset, opacity) as fractions of the shadowed image's shorter side, so a preset looks
# the same on a thumbnail and on a 4K screenshot.
SHADOWS: dict[str, tuple[float, float, float]] = {
    "small": (0.012, 0.006, 0.30),
    "medium": (0.025, 0.015, 0.40),
    "large": (0.05, 0.03, 0.50),
}


def shadow_margin(image: pyvips.Image, preset: str) -> int:
    """How far a preset's shadow reaches past the image, so callers can leave room for it."""
    if preset not in SHADOWS:
        return 0
    sigma, offset, _ = SHADOWS[preset]
    side = min(image.width, image.height)
    return math.ceil(side * (sigma * 3 + offset)) + 2


def drop_shadow(image: pyvips.Image, preset: str) -> tuple[pyvips.Image, int]:
    """The image on a transparent canvas with a soft shadow under it; returns (image, margin)."""
    margin = shadow_margin(image, preset)
    if margin == 0:
        return image, 0
    sigma, offset, opacity = SHADOWS[preset]
    side = min(image.width, image.height)
    alpha = image[3].embed(margin, margin, image.width + 2 * margin, image.height + 2 * margin)
    blurred = alpha.gaussblur(max(0.5, side * sigma)) * opacity
    dy = round(side * offset)
    blurred = blurred.embed(0, dy, blurred.width, blurred.height, extend="black").crop(
        0, 0, blurred.width, blurred.height
    )
    shadow = (pyvips.Image.black(alpha.width, alpha.height, bands=3)).bandjoin(blurred.cast("uchar"))
    shadow = shadow.cast("uchar").copy(interpretation="srgb")
    return composite(shadow, [(image, margin, margin)]), margin


# --- gradients -----------------------------------------------------------------------------------


def _ramp(t: pyvips.Image, stops: Sequence[RGBA]) -> pyvips.Image:
    """Maps a 0..1 float image through evenly spaced colour stops to RGBA."""
    # A 256-entry lookup table built once, then one maplut over the whole canvas.
    n = len(stops)
    table = []
    for i in range(256):
        pos = i / 255 * (n - 1)
        k = min(int(pos), n - 2) if n > 1 else 0
        f = pos - k if n > 1 else 0.0
        a, b = stops[k], stops[min(k + 1, n - 1)]
        table.append([round(a[c] + (b[c] - a[c]) * f) for c in range(4)])
    lut = pyvips.Image.new_from_memory(bytes(v for px in table for v in px), 256, 1, 4, "uchar")
    scaled = t * 255
    scaled = (scaled < 0).ifthenelse(0, scaled)
    index = (scaled > 255).ifthenelse(255, scaled).cast("uchar")
    return index.maplut(lut).copy(interpretation="srgb")


def linear_gradient(width: int, height: int, stops: Sequence[RGBA], angle: float = 135.0) -> pyvips.Image:
    """CSS-like linear-gradient(angle, stops...): 0 deg points up, 90 right, 135 to the bottom right."""
    check_size(width, height)
    rad = math.radians(angle)
    dx, dy = math.sin(rad), -math.cos(rad)
    xyz = pyvips.Image.xyz(width, height)
    proj = xyz[0] * dx + xyz[1] * dy
    # Normalise so the gradient runs corner to corner along the direction, like CSS does.
    corners = [x * dx + y * dy for x in (0, width - 1) for y in (0, height - 1)]
    lo, hi = min(corners), max(corners)
    t = (proj - lo) / max(1e-9, hi - lo)
    return _ramp(t, stops)


def radial_gradient(width: int, height: int, stops: Sequence[RGBA]) -> pyvips.Image:
    """From the centre (first stop) to the farthest corner (last stop)."""
    check_size(width, height)
    xyz = pyvips.Image.xyz(width, height)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    dist = ((xyz[0] - cx) ** 2 + (xyz[1] - cy) ** 2) ** 0.5
    t = dist / max(1e-9, math.hypot(cx, cy))
    return _ramp(t, stops)


# --- text ----------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default(size)


def text_layer(text: str, size: int, colour: RGBA, *, bold: bool = False, stroke: RGBA | None = None) -> pyvips.Image:
    """Text rendered on a transparent RGBA layer just large enough to hold it."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    face = font(max(4, size), bold)
    stroke_w = max(1, size // 14) if stroke else 0
    left, top, right, bottom = face.getbbox(text, stroke_width=stroke_w)
    w, h = max(1, right - left), max(1, bottom - top)
    layer = PILImage.new("RGBA", (w, h), TRANSPARENT)
    ImageDraw.Draw(layer).text(
        (-left, -top), text, font=face, fill=colour, stroke_width=stroke_w, stroke_fill=stroke or colour
    )
    return from_pil(layer)


# --- saving --------------------------------------------------------------------------------------

OutputFormat = Literal["png", "jpeg", "webp"]


def save_rgba(image: pyvips.Image, path: Path, fmt_name: str, quality: int | None = None, **extra: Any) -> Path:
    """Saves an RGBA image as png/jpeg/webp/...: JPEG flattens transparency onto white."""
    fmt = vips.FORMATS["jpeg" if fmt_name in ("jpg", "jpeg") else fmt_name]
    return vips.save(image, path.with_suffix("." + fmt.ext), fmt, quality, **extra)


def format_for_alpha(kind: str, needs_alpha: bool) -> vips.Format:
    """The input's own format when it can hold what we made, else PNG."""
    fmt = vips.output_format(kind)
    if needs_alpha and not fmt.alpha:
        return vips.FORMATS["png"]
    if fmt.name == "gif":  # 256 colours would band gradients and shadows
        return vips.FORMATS["png"]
    return fmt


def unique_names(names: Sequence[str]) -> list[str]:
    """Makes names unique by suffixing -2, -3 ... (case-insensitively, as file systems may be)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        key = name.lower()
        if key in seen:
            seen[key] += 1
            stem, dot, ext = name.rpartition(".")
            name = f"{stem}-{seen[key]}.{ext}" if dot else f"{name}-{seen[key]}"
        else:
            seen[key] = 1
        out.append(name)
    return out


def write_zip(path: Path, files: Sequence[tuple[str, bytes | Path]]) -> Path:
    """A ZIP of (name, bytes-or-path); already-compressed images are stored, not deflated again."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in files:
            if isinstance(content, Path):
                archive.write(content, name)
            else:
                archive.writestr(name, content)
    return path


def zip_outputs(ctx: ToolContext, files: list[Path], name: str) -> Path:
    """Packs a tool's several outputs into one ZIP (stored: media is already compressed) and removes them."""
    archive = write_zip(ctx.output_path(name), [(path.name, path) for path in files])
    for path in files:
        path.unlink(missing_ok=True)
    return archive


# --- untrusted SVG -------------------------------------------------------------------------------

# Every way an SVG can point outside itself: attributes carrying a URL, CSS url() and @import,
# and DTD entities or external DOCTYPEs. Only same-document (#id) and data: references are harmless.
_SVG_ATTR_REF = re.compile(r"""(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_SVG_CSS_URL = re.compile(r"""url\s*\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))\)""", re.IGNORECASE)
_SVG_DTD = re.compile(r"<!ENTITY|<!DOCTYPE[^>]*(?:SYSTEM|PUBLIC|\[)|@import|<\?xml-stylesheet", re.IGNORECASE)


def decode_svg_text(data: bytes) -> str:
    """The SVG's text, whichever Unicode encoding its byte-order mark announces (UTF-8 otherwise)."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, "replace")
    return data.decode("utf-8", "replace")


def svg_external_references(data: bytes) -> list[str]:
    """References in an SVG that would reach outside the document (URLs, files, entities), unescaped."""
    import html

    text = decode_svg_text(data)
    found = [m.group(0)[:80] for m in _SVG_DTD.finditer(text)]
    # XML character references (&#104;ttp:) and CSS escapes are undone before looking at a value.
    values = [m.group(1) or m.group(2) or "" for m in _SVG_ATTR_REF.finditer(text)]
    values += [m.group(1) or m.group(2) or m.group(3) or "" for m in _SVG_CSS_URL.finditer(html.unescape(text))]
    for raw in values:
        value = html.unescape(raw).strip().strip("\"'").strip()
        if "\\" in value or not value.lower().startswith(("#", "data:")):
            found.append(value[:80] or "(empty reference)")
    return found
