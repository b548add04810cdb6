"""Drawing helpers for the overlay tools: colours, fonts, text rendered with Pillow, layers composited
with libvips.

Pillow draws what libvips can't draw well (text with a stroke, rounded boxes, rotated glyphs) into a
small RGBA layer; libvips does the pixel work on the full image (compositing, tiling, opacity), so a
watermark on a 50-megapixel photo never makes Pillow hold the photo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import pyvips
from pydantic import AfterValidator, BeforeValidator

from app.engine.tool import ToolFailure

# Pillow is imported inside the functions that draw: tool modules import this one for its settings
# types (Color, Font), and the server process, which only validates settings, stays free of Pillow.
if TYPE_CHECKING:
    from PIL import Image, ImageFont

RGBA = tuple[int, int, int, int]

# --- colours -----------------------------------------------------------------------------------


def parse_color(value: str) -> RGBA:
    """'#rgb', '#rrggbb', '#rrggbbaa', 'rgb(...)', 'rgba(...)', 'hsl(...)' or a CSS name -> RGBA.

    Raises ValueError (which pydantic reports against the field) for anything else.
    """
    from PIL import ImageColor

    text = value.strip()
    if not text or len(text) > 64:
        raise ValueError("not a colour")
    try:
        r, g, b, a = ImageColor.getcolor(text, "RGBA")  # type: ignore[misc]
    except ValueError:
        raise ValueError(f"{value!r} is not a colour (use #rrggbb, #rrggbbaa, rgb(...) or a CSS name)") from None
    return int(r), int(g), int(b), int(a)


def _check_color(value: str) -> str:
    parse_color(value)
    return value.strip()


# A settings field holding a colour: validated at the edge, so a bad value is a 400 naming the field.
Color = Annotated[str, AfterValidator(_check_color)]


def to_hex(rgb: tuple[int, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


def with_opacity(color: RGBA, opacity_percent: float) -> RGBA:
    """Scales a colour's own alpha by a 0-100 opacity."""
    return color[0], color[1], color[2], round(color[3] * max(0.0, min(100.0, opacity_percent)) / 100)


# --- fonts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontFace:
    """A font family Lutra offers, resolved to a file shipped by a Debian package."""

    id: str
    name: str
    files: tuple[str, ...]  # candidates, first existing wins
    package: str
    licence: str
    stands_in_for: str | None = None  # the proprietary or unpackaged font it replaces


_DEJAVU = "/usr/share/fonts/truetype/dejavu/"
_FALLBACK = (_DEJAVU + "DejaVuSans-Bold.ttf", _DEJAVU + "DejaVuSans.ttf")

# The meme fonts SnapOtter names, mapped to the closest freely licensed faces Debian packages
# (docker/apt-packages.txt installs them). Where a package is missing, DejaVu Sans Bold stands in.
MEME_FONTS: dict[str, FontFace] = {
    "anton": FontFace(
        "anton",
        "Roboto Condensed Bold",
        ("/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Bold.ttf",),
        "fonts-roboto-unhinted",
        "Apache-2.0",
        "Anton (a heavy condensed grotesque; not packaged in Debian)",
    ),
    "arial-black": FontFace(
        "arial-black",
        "Liberation Sans Bold",
        ("/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",),
        "fonts-liberation2",
        "OFL-1.1",
        "Arial Black (proprietary; Liberation Sans is metric-compatible with Arial)",
    ),
    "comic-sans": FontFace(
        "comic-sans",
        "Comic Neue Bold",
        ("/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf",),
        "fonts-comic-neue",
        "OFL-1.1",
        "Comic Sans MS (proprietary)",
    ),
    "montserrat": FontFace(
        "montserrat",
        "League Spartan Bold",
        ("/usr/share/fonts/opentype/league-spartan/LeagueSpartan-Bold.otf",),
        "fonts-league-spartan",
        "OFL-1.1",
        "Montserrat (a geometric sans; not packaged in Debian 12)",
    ),
    "bebas-neue": FontFace(
        "bebas-neue",
        "Bebas Neue",
        ("/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf",),
        "fonts-bebas-neue",
        "OFL-1.1",
    ),
    "permanent-marker": FontFace(
        "permanent-marker",
        "Yusei Magic",
        ("/usr/share/fonts/truetype/yusei-magic/YuseiMagic-Regular.ttf",),
        "fonts-yusei-magic",
        "OFL-1.1",
        "Permanent Marker (a marker-pen hand; not packaged in Debian)",
    ),
    "roboto": FontFace(
        "roboto",
        "Roboto Bold",
        ("/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Bold.ttf",),
        "fonts-roboto-unhinted",
        "Apache-2.0",
    ),
}

_GENERAL_FONTS: dict[str, FontFace] = {
    "sans-serif": FontFace(
        "sans-serif", "DejaVu Sans", (_DEJAVU + "DejaVuSans.ttf",), "fonts-dejavu-core", "Bitstream Vera"
    ),
    "sans-serif-bold": FontFace(
        "sans-serif-bold", "DejaVu Sans Bold", (_DEJAVU + "DejaVuSans-Bold.ttf",), "fonts-dejavu-core", "Bitstream Vera"
    ),
    "serif": FontFace("serif", "DejaVu Serif", (_DEJAVU + "DejaVuSerif.ttf",), "fonts-dejavu-core", "Bitstream Vera"),
    "serif-bold": FontFace(
        "serif-bold", "DejaVu Serif Bold", (_DEJAVU + "DejaVuSerif-Bold.ttf",), "fonts-dejavu-core", "Bitstream Vera"
    ),
    "monospace": FontFace(
        "monospace", "DejaVu Sans Mono", (_DEJAVU + "DejaVuSansMono.ttf",), "fonts-dejavu-core", "Bitstream Vera"
    ),
    "arial": FontFace(
        "arial",
        "Liberation Sans",
        ("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf", _DEJAVU + "DejaVuSans.ttf"),
        "fonts-liberation2",
        "OFL-1.1",
        "Arial / Helvetica",
    ),
    "times-new-roman": FontFace(
        "times-new-roman",
        "Liberation Serif",
        ("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf", _DEJAVU + "DejaVuSerif.ttf"),
        "fonts-liberation2",
        "OFL-1.1",
        "Times New Roman",
    ),
    "courier-new": FontFace(
        "courier-new",
        "Liberation Mono",
        ("/usr/share/fonts/truetype/liberation2/LiberationMono-Regular.ttf", _DEJAVU + "DejaVuSansMono.ttf"),
        "fonts-liberation2",
        "OFL-1.1",
        "Courier New",
    ),
    "impact": FontFace(
        "impact",
        "Roboto Condensed Bold",
        MEME_FONTS["anton"].files,
        "fonts-roboto-unhinted",
        "Apache-2.0",
        "Impact (proprietary)",
    ),
}

FONTS: dict[str, FontFace] = {**_GENERAL_FONTS, **MEME_FONTS}

FontId = Literal[
    "sans-serif",
    "sans-serif-bold",
    "serif",
    "serif-bold",
    "monospace",
    "arial",
    "times-new-roman",
    "courier-new",
    "impact",
    "anton",
    "arial-black",
    "comic-sans",
    "montserrat",
    "bebas-neue",
    "permanent-marker",
    "roboto",
]

# Names clients commonly send (CSS families, OS font names) -> the id Lutra renders them with.
_ALIASES = {
    "sans": "sans-serif",
    "helvetica": "arial",
    "verdana": "sans-serif",
    "dejavu-sans": "sans-serif",
    "times": "times-new-roman",
    "georgia": "serif",
    "courier": "courier-new",
    "mono": "monospace",
    "comic-sans-ms": "comic-sans",
    "bebas": "bebas-neue",
}


def _normalise_font(value: object) -> object:
    if not isinstance(value, str):
        return value
    key = "-".join(value.strip().lower().replace("_", " ").split())
    return _ALIASES.get(key, key)


# A settings field naming a font: case and spaces don't matter ("Times New Roman" works).
Font = Annotated[FontId, BeforeValidator(_normalise_font)]


def font_file(font_id: str) -> Path:
    """The font file for a family id: its package's file, else DejaVu (always installed)."""
    face = FONTS.get(font_id)
    for candidate in (*(face.files if face else ()), *_FALLBACK):
        path = Path(candidate)
        if path.is_file():
            return path
    raise ToolFailure("No font is installed on the server")


@lru_cache(maxsize=64)
def load_font(font_id: str, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(font_file(font_id)), size=max(1, int(size)))


# --- text --------------------------------------------------------------------------------------

Align = Literal["left", "center", "right"]


def _int_box(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    # Pillow may answer fractional boxes (centred multi-line text); round outwards so nothing is cut.
    return math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3])


def text_size(text: str, font: ImageFont.FreeTypeFont, stroke: int = 0, spacing: float = 0.2) -> tuple[int, int]:
    """Width and height of a (multi-line) text block as render_text draws it."""
    from PIL import Image, ImageDraw

    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    box = _int_box(
        draw.multiline_textbbox(
            (0, 0), text, font=font, stroke_width=stroke, spacing=round(font.size * spacing), anchor="la"
        )
    )
    return max(1, box[2] - min(0, box[0])), max(1, box[3] - min(0, box[1]))


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int, stroke: int = 0) -> str:
    """Greedy word wrap to `max_width` pixels; explicit newlines are kept; over-long words stand alone."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            trial = f"{current} {word}" if current else word
            if current and font.getlength(trial) + 2 * stroke > max_width:
                lines.append(current)
                current = word
            else:
                current = trial
        lines.append(current)
    return "\n".join(lines)


def render_text(
    text: str,
    font_id: str,
    size: int,
    fill: RGBA,
    *,
    stroke: int = 0,
    stroke_fill: RGBA = (0, 0, 0, 255),
    align: Align = "left",
    spacing: float = 0.2,
) -> Image.Image:
    """A tight RGBA image of `text` (Pillow; the caller composites it with libvips)."""
    from PIL import Image, ImageDraw

    font = load_font(font_id, size)
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    gap = round(font.size * spacing)
    box = _int_box(
        draw.multiline_textbbox((0, 0), text, font=font, stroke_width=stroke, spacing=gap, anchor="la", align=align)
    )
    width, height = max(1, box[2] - box[0]), max(1, box[3] - box[1])
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(layer).multiline_text(
        (-box[0], -box[1]),
        text,
        font=font,
        fill=fill,
        stroke_width=stroke,
        stroke_fill=stroke_fill,
        spacing=gap,
        anchor="la",
        align=align,
    )
    return layer


# --- Pillow <-> libvips --------------------------------------------------------------------------


def to_vips(image: Image.Image) -> pyvips.Image:
    """A Pillow RGBA/RGB/L image as a libvips image (copied, so the Pillow object can go)."""
    if image.mode not in ("RGBA", "RGB", "L"):
        image = image.convert("RGBA")
    bands = {"RGBA": 4, "RGB": 3, "L": 1}[image.mode]
    out = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, bands, "uchar")
    return out.copy(interpretation="srgb" if bands >= 3 else "b-w")


def to_pil(image: pyvips.Image) -> Image.Image:
    """A small 8-bit sRGB(A) libvips image as Pillow RGB/RGBA (decodes it: keep it small)."""
    from PIL import Image

    image = as_srgb(image)
    mode = "RGBA" if image.bands == 4 else "RGB"
    return Image.frombytes(mode, (image.width, image.height), image.write_to_memory())


def as_srgb(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB with 3 bands, or 4 with alpha: the one shape the overlay tools composite in."""
    if image.coding != "none":
        image = image.decode()
    if image.interpretation in ("b-w", "grey16") or image.bands in (1, 2):
        image = image.colourspace("srgb") if image.interpretation in ("b-w", "grey16") else image
        if image.bands in (1, 2):
            alpha = image[1] if image.bands == 2 else None
            grey = image[0]
            image = grey.bandjoin([grey, grey] + ([alpha] if alpha is not None else []))
    elif image.interpretation not in ("srgb", "multiband"):
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = (image / 257).cast("uchar") if image.format == "ushort" else image.cast("uchar")
    if image.bands > 4:
        image = image.extract_band(0, n=4)
    return image.copy(interpretation="srgb")


def flatten(image: pyvips.Image, background: tuple[int, int, int] = (255, 255, 255)) -> pyvips.Image:
    """8-bit sRGB without alpha (transparent areas become `background`)."""
    image = as_srgb(image)
    if image.bands == 4:
        image = image.flatten(background=list(background)).cast("uchar").copy(interpretation="srgb")
    return image


# --- layers ------------------------------------------------------------------------------------

Position = Literal[
    "top-left",
    "top-center",
    "top-right",
    "center-left",
    "center",
    "center-right",
    "bottom-left",
    "bottom-center",
    "bottom-right",
]


def place(position: str, outer: tuple[int, int], inner: tuple[int, int], margin: int) -> tuple[int, int]:
    """Top-left corner of an `inner`-sized box at one of nine positions inside `outer`."""
    (ow, oh), (iw, ih) = outer, inner
    vertical, _, horizontal = position.partition("-") if position != "center" else ("center", "", "center")
    if position in ("top", "bottom"):
        vertical, horizontal = position, "center"
    x = {"left": margin, "center": (ow - iw) // 2, "right": ow - iw - margin}.get(horizontal, (ow - iw) // 2)
    y = {"top": margin, "center": (oh - ih) // 2, "bottom": oh - ih - margin}.get(vertical, (oh - ih) // 2)
    return x, y


def set_opacity(layer: pyvips.Image, opacity_percent: float) -> pyvips.Image:
    """Multiplies an RGBA layer's alpha by a 0-100 opacity."""
    layer = as_srgb(layer)
    if layer.bands == 3:
        layer = layer.addalpha()
    if opacity_percent >= 100:
        return layer
    alpha = (layer[3] * (max(0.0, opacity_percent) / 100)).cast("uchar")
    return layer.extract_band(0, n=3).bandjoin(alpha).copy(interpretation="srgb")


def overlay(base: pyvips.Image, layer: pyvips.Image, x: int, y: int, mode: str = "over") -> pyvips.Image:
    """Composites `layer` onto `base` at (x, y), clipped to the base; keeps the base's alpha or lack of it."""
    base = as_srgb(base)
    had_alpha = base.bands == 4
    out = base.composite2(set_opacity(layer, 100), mode, x=x, y=y).cast("uchar")
    if not had_alpha:
        out = out.extract_band(0, n=3)
    return out.copy(interpretation="srgb")


def tile(layer: pyvips.Image, width: int, height: int, gap_x: int, gap_y: int) -> pyvips.Image:
    """Repeats an RGBA layer (with gaps, alternate rows shifted by half a cell) over width x height."""
    layer = set_opacity(layer, 100)
    cell = layer.embed(0, 0, layer.width + gap_x, layer.height + gap_y, extend="background", background=[0, 0, 0, 0])
    across = width // cell.width + 2
    down = height // cell.height + 1
    row = cell.replicate(across, 1)
    shifted = row.crop(cell.width // 2, 0, row.width - cell.width // 2, row.height)
    shifted = shifted.embed(0, 0, row.width, row.height, extend="background", background=[0, 0, 0, 0])
    pair = row.join(shifted, "vertical")
    sheet = pair.replicate(1, down // 2 + 1)
    return sheet.crop(0, 0, min(width, sheet.width), min(height, sheet.height)).copy(interpretation="srgb")
