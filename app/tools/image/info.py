"""Image Info: dimensions, format, channels, alpha, DPI, EXIF and more, read from the header only."""

from __future__ import annotations

import json
import re
from typing import Any

import pyvips

from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool

# libvips renders an EXIF entry as "<raw> (<readable>, <Type>, <n> components, <n> bytes)".
_EXIF_VALUE = re.compile(r"^(?P<raw>.*?) \((?P<text>.*), (?P<type>[A-Za-z]+), \d+ components?, \d+ bytes\)$", re.S)
_EXIF_SKIP = {"MakerNote", "UserComment", "PrintImageMatching"}  # vendor blobs, not readable text
_MAX_EXIF_VALUE = 512
_BIT_DEPTH = {"uchar": 8, "char": 8, "ushort": 16, "short": 16, "uint": 32, "int": 32, "float": 32, "double": 64}


def exif_tags(image: pyvips.Image) -> dict[str, str]:
    """Readable EXIF tags by name (e.g. {"Make": "Canon", "Orientation": "Right-top"})."""
    tags: dict[str, str] = {}
    for name in image.get_fields():
        if not name.startswith("exif-ifd"):
            continue
        tag = name.split("-", 2)[2]
        if tag in _EXIF_SKIP:
            continue
        value = image.get(name)
        if not isinstance(value, str):
            continue
        match = _EXIF_VALUE.match(value)
        text = (match.group("text") if match else value).strip()
        if text and len(text) <= _MAX_EXIF_VALUE and text.isprintable():
            tags.setdefault(tag, text)  # the same tag in a thumbnail IFD (ifd1) doesn't override IFD0
    return tags


def _progressive(image: pyvips.Image) -> bool | None:
    for field in ("jpeg-multiscan", "interlaced"):
        if image.get_typeof(field):
            return bool(image.get(field))
    return None


def describe(image: pyvips.Image, kind: str, size: int) -> dict[str, Any]:
    return {
        "width": image.width,
        "height": vips.page_height(image),
        "format": kind,
        "size": size,
        "channels": image.bands,
        "hasAlpha": bool(image.hasalpha()),
        "dpi": vips.dpi(image),
        "exif": exif_tags(image),
        "pages": vips.page_count(image),
        "orientation": vips.orientation(image),
        "colorspace": image.interpretation,
        "bitDepth": _BIT_DEPTH.get(image.format),
        "isProgressive": _progressive(image),
        "hasProfile": bool(image.get_typeof("icc-profile-data")),
    }


@tool(
    id="info",
    section="image",
    title="Image Info",
    description="Width, height, format, size, channels, alpha, DPI and EXIF of an image.",
    settings=NoSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif", "bmp", "svg"),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    source = ctx.input
    ctx.progress(5, "Reading the header")
    with vips.vips_errors():
        # Opening is lazy: only the header is parsed, no pixels are decoded.
        image = pyvips.Image.new_from_file(str(source.path))
        data = describe(image, source.kind, source.size)
    # The same fields as a downloadable file, so the answer has a downloadUrl like every fast tool.
    out = vips.output_path(ctx, "json", "info")
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    ctx.progress(100, "Done")
    return ToolResult([out], data)
