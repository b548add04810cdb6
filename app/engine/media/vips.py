"""Shared libvips helpers for the image tools: loading upright, saving per format, animation, errors.

The rules every image tool follows live here, so they hold everywhere:
- read as little as possible (header first, `access="sequential"` when the operation streams,
  `thumbnail` for shrink-on-load when the size goes down);
- keep the input's format when libvips can write it, else PNG; keep metadata unless told otherwise;
- turn libvips errors into a short ToolFailure, never libvips' own text (it carries file paths).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from app.engine import failures
from app.engine.tool import ToolContext, ToolFailure

log = logging.getLogger("lutra.vips")

DECODE_FAILED = "Could not decode the image (it may be damaged or truncated)"


@dataclass(frozen=True)
class Format:
    """An output format: its file extension and what it can hold."""

    name: str
    ext: str
    alpha: bool  # can keep an alpha channel
    lossy: bool  # has a quality knob
    animated: bool  # can hold several frames
    high_bit: bool = False  # can keep 16 bits per sample


FORMATS: dict[str, Format] = {
    "jpeg": Format("jpeg", "jpg", alpha=False, lossy=True, animated=False),
    "png": Format("png", "png", alpha=True, lossy=False, animated=False, high_bit=True),
    "webp": Format("webp", "webp", alpha=True, lossy=True, animated=True),
    "avif": Format("avif", "avif", alpha=True, lossy=True, animated=False),
    "heic": Format("heic", "heic", alpha=True, lossy=True, animated=False),
    "heif": Format("heif", "heif", alpha=True, lossy=True, animated=False),
    "tiff": Format("tiff", "tiff", alpha=True, lossy=False, animated=False, high_bit=True),
    "gif": Format("gif", "gif", alpha=True, lossy=False, animated=True),
}

# Detected input kind (sniff.py) -> the format its result is written in. Kinds libvips reads but
# that make poor outputs or that it can't write (BMP, SVG, ICO, JPEG XL, JPEG 2000) become PNG.
_KEEP = {"jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "heif": "heic", "tiff": "tiff", "gif": "gif"}

# Loaders that take `n` (frame count); passing it to any other loader is an error.
_MULTI_PAGE_KINDS = ("gif", "webp")

DEFAULT_QUALITY = 80

# Encoder effort (CPU spent for a smaller file) per lossy format, chosen from bench/encoder_table.py:
# AVIF at effort 2 encodes a 12 MP photo ~4x faster than libvips' default 4 for a file within ~3 %;
# WebP's default 4 already costs little. libheif's x265 ignores the effort (HEIC sizes and times are
# equal at 0 and 9), so HEIC keeps libvips' default. Callers and the `effort` setting may override.
DEFAULT_EFFORT: dict[str, int] = {"avif": 2, "heic": 4, "heif": 4, "webp": 4}
# The effort range each saver accepts (libvips heifsave 0-9, webpsave 0-6).
EFFORT_RANGE: dict[str, tuple[int, int]] = {"avif": (0, 9), "heic": (0, 9), "heif": (0, 9), "webp": (0, 6)}
WHITE = (255.0, 255.0, 255.0)


def output_format(kind: str) -> Format:
    """The format a tool writes for an input of this detected kind when the user asked for none."""
    return FORMATS[_KEEP.get(kind, "png")]


@contextmanager
def vips_errors(message: str = DECODE_FAILED) -> Iterator[None]:
    """Maps libvips failures to a short ToolFailure (app/engine/failures.py); raw text only goes to the log.

    libvips is lazy: a damaged file often fails at save time, not at open, so wrap the whole
    pipeline (load ... save), not just the load.
    """
    try:
        yield
    except pyvips.Error as exc:
        text = str(exc)  # pyvips' message and libvips' error buffer (the detail that names the cause)
        log.info("libvips failed: %s", text)
        # A known cause names the input's problem; otherwise the caller's message, unless it is the
        # generic decode one, which would be a guess: then an internal error with a log id.
        reason = failures.vips(text) or (message if message != DECODE_FAILED else failures.internal("libvips", text))
        raise ToolFailure(reason) from None


def output_path(ctx: ToolContext, ext: str, tag: str | None = None) -> Path:
    """`<stem>_<tag>.<ext>` (or `<stem>.<ext>`) in the job's output folder, never the input itself."""
    stem = ctx.input.stem
    path = ctx.output_path(f"{stem}.{ext}" if tag is None else f"{stem}_{tag}.{ext}")
    if path.resolve() == Path(ctx.input.path).resolve():
        path = ctx.output_path(f"{stem}_{tag or 'out'}.{ext}")
    return path


# --- loading -----------------------------------------------------------------------------------


def _get(image: pyvips.Image, name: str, default: Any = None) -> Any:
    return image.get(name) if image.get_typeof(name) else default


def orientation(image: pyvips.Image) -> int:
    value = _get(image, "orientation", 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def page_count(image: pyvips.Image) -> int:
    return max(1, int(_get(image, "n-pages", 1)))


def page_height(image: pyvips.Image) -> int:
    ph = _get(image, "page-height", image.height)
    # A page height that doesn't divide the strip means the image isn't really paged.
    return ph if isinstance(ph, int) and 0 < ph <= image.height and image.height % ph == 0 else image.height


def is_animated(image: pyvips.Image) -> bool:
    return page_height(image) < image.height


def load(path: Path, kind: str, *, sequential: bool = True, all_pages: bool = False) -> pyvips.Image:
    """Opens an image upright (EXIF orientation applied).

    `sequential` lets libvips stream top to bottom (far less memory) when the caller's operation
    allows it; an orientation that needs a turn forces random access. `all_pages` loads every frame
    of an animated GIF/WebP as one tall strip with `page-height` set.
    """
    options: dict[str, Any] = {"fail_on": "truncated"}
    if all_pages and kind in _MULTI_PAGE_KINDS:
        options["n"] = -1
    head = pyvips.Image.new_from_file(str(path), **options)
    if kind == "jp2":
        # libvips 8.14's JPEG 2000 loader cannot read an image a second time ("Need to decode the main
        # header"): a tool that reads the pixels twice (statistics, then the change) failed on every
        # JP2. Decoded once into memory instead (the pixel count is capped by MAX_MEGAPIXELS).
        head = head.copy_memory()
    if orientation(head) != 1 and not is_animated(head):
        # autorot turns pixels and drops the tag, so later saves don't rotate twice.
        return head.autorot()
    if sequential and kind != "jp2" and not is_animated(head):
        return pyvips.Image.new_from_file(str(path), access="sequential", **options)
    # Frames are cut out of the strip one by one: that needs random access.
    return head


def upright_size(source: Path | pyvips.Image) -> tuple[int, int]:
    """Width and height as the viewer sees them (EXIF orientation applied), from the header only
    (pass an image already opened to read no header again)."""
    head = source if isinstance(source, pyvips.Image) else pyvips.Image.new_from_file(str(source))
    if orientation(head) in (5, 6, 7, 8):
        return head.height, head.width
    return head.width, page_height(head)


# --- animation ---------------------------------------------------------------------------------


def split_pages(image: pyvips.Image) -> list[pyvips.Image]:
    ph = page_height(image)
    return [image.crop(0, top, image.width, ph) for top in range(0, image.height, ph)]


def join_pages(frames: list[pyvips.Image]) -> pyvips.Image:
    """Stacks equally sized frames into one strip, keeping the first frame's metadata (delays, loop)."""
    if len(frames) == 1:
        return frames[0]
    out = pyvips.Image.arrayjoin(frames, across=1).copy()
    out.set_type(pyvips.GValue.gint_type, "page-height", frames[0].height)
    return out


def map_pages(image: pyvips.Image, fn: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:
    """Applies a geometric operation to each frame of an animation (or to the single image)."""
    if not is_animated(image):
        return fn(image)
    return join_pages([fn(frame) for frame in split_pages(image)])


def first_page(image: pyvips.Image) -> pyvips.Image:
    if not is_animated(image):
        return image
    frame = image.crop(0, 0, image.width, page_height(image)).copy()
    frame.remove("page-height")
    return frame


# --- pixels ------------------------------------------------------------------------------------


def ensure_alpha(image: pyvips.Image) -> pyvips.Image:
    """Adds an opaque alpha band if the image has none (so new canvas area can be transparent)."""
    return image if image.hasalpha() else image.addalpha()


def background_for(image: pyvips.Image, fmt: Format) -> list[float]:
    """Fill for new canvas area: transparent where the output keeps alpha, else white."""
    bands = image.bands
    top = 65535.0 if image.format == "ushort" else 255.0
    if fmt.alpha:
        return [0.0] * bands
    colour = [top] * bands
    if image.hasalpha():
        colour[-1] = top
    return colour


def scale(image: pyvips.Image, factor: float) -> pyvips.Image:
    """Scales every frame by `factor`, premultiplying alpha so transparent edges don't go dark."""

    def one(frame: pyvips.Image) -> pyvips.Image:
        if not frame.hasalpha():
            return frame.resize(factor)
        original = frame.format
        return frame.premultiply().resize(factor).unpremultiply().cast(original)

    return map_pages(image, one)


def prepare_for(image: pyvips.Image, fmt: Format) -> pyvips.Image:
    """Makes an image writable as `fmt`: sRGB/grey, 8-bit where the format needs it, alpha flattened
    onto white where the format has none (JPEG would otherwise turn transparency black)."""
    if image.coding != "none":
        image = image.decode()
    interpretation = image.interpretation
    keep_cmyk = interpretation == "cmyk" and fmt.name in ("jpeg", "tiff")
    if not keep_cmyk and interpretation not in ("srgb", "b-w", "rgb16", "grey16"):
        image = image.colourspace("srgb")
    if not fmt.high_bit and image.format != "uchar":
        if image.interpretation in ("rgb16", "grey16"):
            image = image.colourspace("srgb" if image.interpretation == "rgb16" else "b-w")
        if image.format != "uchar":
            image = image.cast("uchar")
    if image.hasalpha() and not fmt.alpha:
        top = 65535 if image.format == "ushort" else 255
        image = image.flatten(background=[top] * (image.bands - 1))
    return image


def save_options(fmt: Format, quality: int | None = None, **extra: Any) -> tuple[str, dict[str, Any]]:
    """The saver suffix and keyword arguments for one format (shared by file and buffer saves)."""
    q = DEFAULT_QUALITY if quality is None else int(quality)
    options: dict[str, Any]
    if fmt.name == "jpeg":
        options = {"Q": q, "optimize_coding": True}
    elif fmt.name == "webp":
        options = {"Q": q, "effort": DEFAULT_EFFORT["webp"]}
    elif fmt.name in ("avif", "heic", "heif"):
        options = {"Q": q, "compression": "av1" if fmt.name == "avif" else "hevc", "effort": DEFAULT_EFFORT[fmt.name]}
    elif fmt.name == "png":
        options = {"compression": 6}
    elif fmt.name == "tiff":
        options = {"compression": "lzw"}
    else:  # gif
        options = {}
    options.update(extra)
    suffix = ".avif" if fmt.name == "avif" else ".heic" if fmt.name in ("heic", "heif") else "." + fmt.ext
    return suffix, options


def save(image: pyvips.Image, path: Path, fmt: Format, quality: int | None = None, **extra: Any) -> Path:
    """Writes `image` as `fmt` (after prepare_for) and returns the path (its suffix picks the saver)."""
    _, options = save_options(fmt, quality, **extra)
    prepare_for(image, fmt).write_to_file(str(path), **options)
    return path


def encode(image: pyvips.Image, fmt: Format, quality: int | None = None, **extra: Any) -> bytes:
    """Encodes in memory (for size searches); `image` should already be prepare_for'd and in memory."""
    suffix, options = save_options(fmt, quality, **extra)
    return image.write_to_buffer(suffix, **options)


def dpi(image: pyvips.Image) -> int | None:
    """Horizontal resolution in dots per inch, or None when the file doesn't say.

    libvips stores pixels per millimetre and uses exactly 1.0 when the file has no resolution.
    """
    xres = float(image.xres)
    if xres <= 0 or abs(xres - 1.0) < 1e-9:
        return None
    return round(xres * 25.4)
