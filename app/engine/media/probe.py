"""Cheap checks on an upload before any job runs: header-only reads, never a full decode."""

from __future__ import annotations

from pathlib import Path

from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import InputRejected

# Formats whose decoders may reach outside the file (external entities, linked images): libvips'
# SVG loader (librsvg) does not fetch remote resources, but refuse anything claiming an external href.
_SVG_EXTERNAL = (b"<!ENTITY", b'xlink:href="http', b'href="http', b'xlink:href="file', b'href="file')


def check_image(path: Path, kind: str, max_megapixels: int) -> tuple[int, int]:
    """Reads only the image header; rejects unreadable files and ones over MAX_MEGAPIXELS."""
    import pyvips

    if kind == "svg":
        head = path.read_bytes()[:1_000_000]
        if any(marker in head for marker in _SVG_EXTERNAL):
            raise InputRejected("SVG files referring to external resources are not accepted", 415, "UNSAFE_INPUT")
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential", fail=True)
        width, height = image.width, image.height
        pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
    except pyvips.Error as exc:
        raise InputRejected("The file is not a readable image", 415, "UNSUPPORTED_MEDIA_TYPE") from exc
    pixels = width * height * max(1, min(int(pages), 1000))
    if width <= 0 or height <= 0:
        raise InputRejected("The image has no pixels", 400, "INVALID_INPUT")
    if pixels > max_megapixels * 1_000_000:
        raise InputRejected(
            f"Image too large: {pixels / 1e6:.1f} megapixels (limit {max_megapixels}, see MAX_MEGAPIXELS)",
            400,
            "IMAGE_TOO_LARGE",
        )
    return width, height


def check_input(path: Path, kind: str, max_megapixels: int) -> None:
    if kind in IMAGE_KINDS:
        check_image(path, kind, max_megapixels)
