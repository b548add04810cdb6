"""Images as numpy arrays for the AI and restoration tools: load upright as 8-bit RGB (+ alpha), save
back in the input's (or a chosen) format with its metadata.

The tools' models and OpenCV work on H x W x 3 uint8 RGB arrays. Alpha is split off and put back
untouched; animated inputs give their first frame. Only tool run functions import this module (it
imports numpy), so the server, which imports every tool module, never loads numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips

from app.engine.media import adjust, vips
from app.engine.tool import ToolContext

# Metadata worth keeping across a trip through numpy (pixels change, the photo's story doesn't).
_BLOBS = ("exif-data", "xmp-data", "iptc-data", "icc-profile-data")


@dataclass
class Picture:
    """The input as arrays, and what it takes to write the result like it."""

    rgb: np.ndarray  # H x W x 3 uint8
    alpha: np.ndarray | None  # H x W uint8, or None
    source: pyvips.Image  # the upright 8-bit sRGB first frame (metadata, resolution)
    fmt: vips.Format

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def load(ctx: ToolContext) -> Picture:
    """The input upright, first frame only, as RGB (and alpha) arrays; its output format by kind."""
    source = ctx.input
    image = vips.first_page(vips.load(Path(source.path), source.kind, sequential=False))
    rgb_source = image.bands >= 3 and image.interpretation in ("srgb", "rgb16")
    image = adjust.to_rgb8(image).copy()
    if not rgb_source and image.get_typeof("icc-profile-data"):
        image.remove("icc-profile-data")  # a grey or CMYK profile can't describe the RGB result
    colour, alpha = adjust.split_alpha(image)
    rgb = np.ascontiguousarray(colour.numpy())
    if rgb.ndim == 2:  # 1-band after colourspace on odd inputs
        rgb = np.stack([rgb] * 3, axis=-1)
    return Picture(
        rgb=rgb[:, :, :3],
        alpha=None if alpha is None else np.ascontiguousarray(alpha.numpy()),
        source=image,
        fmt=vips.output_format(source.kind),
    )


def to_vips(rgb: np.ndarray, alpha: np.ndarray | None = None, like: pyvips.Image | None = None) -> pyvips.Image:
    """An 8-bit sRGB pyvips image from arrays, with `like`'s metadata and resolution."""
    rgb = np.ascontiguousarray(np.clip(rgb, 0, 255).astype(np.uint8))
    image = pyvips.Image.new_from_array(rgb).copy(interpretation="srgb")
    if alpha is not None:
        image = image.bandjoin(pyvips.Image.new_from_array(np.ascontiguousarray(alpha.astype(np.uint8))))
        image = image.copy(interpretation="srgb")
    if like is not None:
        image = image.copy(xres=like.xres, yres=like.yres)
        for name in like.get_fields():
            if name in _BLOBS or name.startswith("exif-ifd"):
                image.set_type(like.get_typeof(name), name, like.get(name))
    return image


def save(
    ctx: ToolContext,
    picture: Picture,
    rgb: np.ndarray,
    tag: str,
    fmt: vips.Format | None = None,
    quality: int | None = None,
) -> Path:
    """Writes `rgb` (with the input's alpha and metadata) as `fmt` (default: the input's format)."""
    fmt = fmt or picture.fmt
    image = to_vips(rgb, picture.alpha, picture.source)
    return vips.save(image, vips.output_path(ctx, fmt.ext, tag), fmt, quality)


def format_for(picture: Picture, name: str) -> vips.Format:
    """A `format` setting ("original" or a format name) to the format to write."""
    return picture.fmt if name == "original" else vips.FORMATS[name]
