"""Helpers for the colour and pixel-adjustment image tools: colour settings, RGB working copies,
alpha handling, per-pixel maths, and load/save with the input's format kept.

Every adjustment tool works the same way: load upright (all frames when the output format keeps
animation), turn into 8-bit sRGB colour bands plus an optional alpha band, do float maths on the
colour bands only (alpha is never tinted, inverted or sharpened), round and clip back to 8 bits,
put the alpha back, and save in the input's format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pyvips
from pydantic import Field

from app.engine.media import vips
from app.engine.tool import ToolContext

_HEX = re.compile(r"^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
HEX_PATTERN = _HEX.pattern

HexColor = Annotated[str, Field(pattern=HEX_PATTERN, description="Colour as hex: #RGB, #RGBA, #RRGGBB or #RRGGBBAA")]
# A colour or the word "transparent" (for backgrounds).
HexOrTransparent = Annotated[
    str,
    Field(
        pattern=r"^(?:transparent|#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}))$",
        description="Colour as hex (#RGB, #RRGGBB, #RRGGBBAA) or 'transparent'",
    ),
]

# Rec. 709 / sRGB luma weights, the ones CSS filters and most editors use for "grayscale".
LUMA = (0.2126, 0.7152, 0.0722)


def parse_hex(value: str) -> tuple[int, int, int, int]:
    """'#abc', '#aabbcc', '#aabbccdd' (or 'transparent') -> (r, g, b, a), each 0-255."""
    if value.strip().lower() == "transparent":
        return (0, 0, 0, 0)
    text = value.strip().lstrip("#")
    if not _HEX.match(text):
        raise ValueError(f"not a hex colour: {value!r}")
    if len(text) in (3, 4):
        text = "".join(c * 2 for c in text)
    if len(text) == 6:
        text += "ff"
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), int(text[6:8], 16))


def rgb(value: str) -> list[float]:
    r, g, b, _ = parse_hex(value)
    return [float(r), float(g), float(b)]


# --- working copies --------------------------------------------------------------------------------


def to_rgb8(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB with 3 colour bands (+ alpha if it had one): the space every adjustment works in."""
    if image.coding != "none":
        image = image.decode()
    if image.interpretation in ("rgb16", "grey16"):
        # colourspace() turns 16-bit into 8-bit properly (a plain cast would clip, not scale).
        image = image.colourspace("srgb")
    elif image.interpretation != "srgb" or image.bands < 3:
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def split_alpha(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    """(colour bands, alpha band or None) of an 8-bit sRGB image."""
    if image.hasalpha():
        return image.extract_band(0, n=image.bands - 1), image.extract_band(image.bands - 1)
    return image, None


def join_alpha(colour: pyvips.Image, alpha: pyvips.Image | None) -> pyvips.Image:
    out = colour if alpha is None else colour.bandjoin(alpha)
    return out.copy(interpretation="srgb")


def to_uchar(image: pyvips.Image) -> pyvips.Image:
    """Rounds and clips float pixels to 0-255 (a plain cast would truncate 254.9 to 254)."""
    return (image + 0.5).cast("uchar")


def clamp(image: pyvips.Image, low: float, high: float) -> pyvips.Image:
    image = (image < low).ifthenelse(low, image)
    return (image > high).ifthenelse(high, image)


def luma(colour: pyvips.Image) -> pyvips.Image:
    """One band of Rec. 709 luma from 3 colour bands (float, same scale as the input)."""
    return colour.recomb([list(LUMA)])


def map_colour(image: pyvips.Image, fn: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:
    """Applies `fn` to the float colour bands (0-255) of an image, leaving alpha alone; 8-bit sRGB out."""
    colour, alpha = split_alpha(to_rgb8(image))
    return join_alpha(to_uchar(fn(colour.cast("float"))), alpha)


def to_linear(colour: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB colour bands -> linear-light float RGB (0-1), where light adds up physically."""
    return colour.colourspace("scrgb")


def from_linear(linear: pyvips.Image) -> pyvips.Image:
    """Linear-light float RGB (0-1) -> 8-bit sRGB colour bands."""
    return clamp(linear, 0.0, 1.0).copy(interpretation="scrgb").colourspace("srgb")


def matrix(colour: pyvips.Image, m: list[list[float]]) -> pyvips.Image:
    return colour.recomb(m)


# --- loading and saving ----------------------------------------------------------------------------


def load(ctx: ToolContext, *, sequential: bool = False) -> tuple[pyvips.Image, vips.Format]:
    """The input upright, with every frame when its output format keeps animation, and that format."""
    source = ctx.input
    fmt = vips.output_format(source.kind)
    image = vips.load(Path(source.path), source.kind, sequential=sequential, all_pages=fmt.animated)
    return image, fmt


def with_alpha_format(fmt: vips.Format) -> vips.Format:
    """The format to write when the result gained transparency: the input's when it can hold it, else PNG."""
    return fmt if fmt.alpha else vips.FORMATS["png"]


def save(ctx: ToolContext, image: pyvips.Image, fmt: vips.Format, tag: str) -> Path:
    out = vips.output_path(ctx, fmt.ext, tag)
    return vips.save(image, out, fmt)


def map_frames(image: pyvips.Image, fn: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:
    """Applies a spatial operation (blur, pixelate, vignette) frame by frame, so edges don't bleed
    between the frames of an animation strip."""
    if not vips.is_animated(image):
        return fn(image)
    return vips.join_pages([fn(frame) for frame in vips.split_pages(image)])
