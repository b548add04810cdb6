"""EPS in and out for the image conversion tools.

Reading: ImageMagick's policy here (rightly) refuses PostScript, so EPS is rasterized by Ghostscript
itself under -dSAFER (PostScript in the file can't touch the file system), at a resolution capped so
the bitmap stays under MAX_MEGAPIXELS. Writing: Pillow's EPS encoder writes the pixels as a plain
PostScript image, which needs no Ghostscript at all.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pyvips

from app.engine.media.process import run_program
from app.engine.tool import InputFile, InputRejected, ToolContext, ToolFailure

GS = "gs"
DPI = 150  # EPS has no pixel size; 150 dpi keeps print artwork sharp on screen
_BBOX = re.compile(rb"%%(?:HiRes)?BoundingBox:\s*(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)")
_DOS_EPS = b"\xc5\xd0\xd3\xc6"
_TIMEOUT_S = 120.0


def postscript_head(path: Path, size: int = 64 * 1024) -> bytes:
    """The PostScript part's first bytes (a DOS EPS wraps it after a 30-byte header with offsets)."""
    with path.open("rb") as f:
        head = f.read(30)
        if head.startswith(_DOS_EPS) and len(head) >= 12:
            f.seek(int.from_bytes(head[4:8], "little"))
            return f.read(size)
        return head + f.read(size - 30)


def bounding_box(path: Path) -> tuple[float, float]:
    """Width and height in points from %%BoundingBox; an EPS without one is refused (it isn't EPS)."""
    found = _BBOX.search(postscript_head(path))
    if found is None:
        raise InputRejected("The EPS file has no %%BoundingBox", 415, "UNSUPPORTED_MEDIA_TYPE")
    llx, lly, urx, ury = (float(v) for v in found.groups())
    width, height = urx - llx, ury - lly
    if width <= 0 or height <= 0:
        raise InputRejected("The EPS file's bounding box is empty", 400, "INVALID_INPUT")
    return width, height


def raster_dpi(path: Path, max_megapixels: int) -> float:
    """DPI, lowered when needed so the bitmap fits MAX_MEGAPIXELS."""
    width, height = bounding_box(path)
    pixels = width * height * (DPI / 72) ** 2
    limit = max_megapixels * 1_000_000
    return DPI if pixels <= limit else max(1.0, DPI * (limit / pixels) ** 0.5)


def check(path: Path, max_megapixels: int) -> None:
    """Upload check: a bounding box, and a raster size libvips will accept even at 1 dpi."""
    width, height = bounding_box(path)
    if width * height / 72**2 > max_megapixels * 1_000_000:
        raise InputRejected("The EPS page is too large to rasterize", 400, "IMAGE_TOO_LARGE")


def rasterize(ctx: ToolContext, source: InputFile) -> InputFile:
    """The EPS as an RGBA PNG beside the job's outputs (a scratch file the tool reads instead)."""
    from app.config import get_settings

    dpi = raster_dpi(source.path, get_settings().max_megapixels)
    scratch = ctx.workdir / ".eps"
    scratch.mkdir(parents=True, exist_ok=True)
    out = scratch / f"{source.stem}.png"
    cmd = [GS, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOPROMPT", "-dEPSCrop", "-sDEVICE=pngalpha",
           f"-r{dpi:.2f}", "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4", f"-sOutputFile={out}",
           "-f", str(Path(source.path).resolve())]  # fmt: skip
    run_program(cmd, ctx, what="Ghostscript", timeout_s=_TIMEOUT_S, failure="could not read this EPS file")
    if not out.is_file() or out.stat().st_size == 0:
        raise ToolFailure("Ghostscript could not read this EPS file")
    return replace(source, path=out, kind="png", size=out.stat().st_size)


def readable(ctx: ToolContext, source: InputFile) -> InputFile:
    """The input as libvips can open it: EPS rasterized, every other kind as it is."""
    return rasterize(ctx, source) if source.kind == "eps" else source


def write(image: pyvips.Image, out: Path) -> Path:
    """Saves an image as EPS (8-bit RGB or grey; transparency flattened onto white, as print expects)."""
    from PIL import Image

    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    with Image.open(io.BytesIO(image.write_to_buffer(".png"))) as picture:
        picture.convert("L" if image.bands == 1 else "RGB").save(out, format="EPS")
    return out
