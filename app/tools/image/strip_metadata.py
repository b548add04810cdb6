"""Strip Metadata: remove EXIF (GPS included), XMP, IPTC, comments and ICC profiles, keeping colours right.

A photo's orientation is applied to the pixels first, so it still stands upright without its EXIF
tag; a non-sRGB colour profile is converted to sRGB first, so colours look the same without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyvips

from app.engine.media import image_meta, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, action, tool

_QUALITY = 90  # re-encoding (to bake in rotation or colour) should cost as little quality as possible
_METADATA_PREFIXES = ("exif-", "xmp-data", "iptc-data", "icc-profile-data", "photoshop-data", "orientation")


def _is_srgb(profile: bytes) -> bool:
    description = (image_meta.icc_description(profile) or "").lower()
    return "srgb" in description.replace(" ", "") or "iec61966" in description.replace(" ", "")


@tool(
    id="strip-metadata",
    section="image",
    title="Strip Metadata",
    description="Remove EXIF (including GPS location), XMP, IPTC, comments and colour profiles from an image.",
    settings=NoSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    source = ctx.input
    ctx.progress(5, "Stripping metadata")
    fmt = vips.output_format(source.kind)
    with vips.vips_errors():
        head = pyvips.Image.new_from_file(str(source.path))
        before = image_meta.read_all(head)
        out = vips.output_path(ctx, fmt.ext, "stripped")
        icc = head.get("icc-profile-data") if head.get_typeof("icc-profile-data") else None
        if source.kind == "jpeg" and vips.orientation(head) == 1 and (icc is None or _is_srgb(icc)):
            # Nothing to bake into the pixels: drop the segments and keep the JPEG data bit for bit.
            try:
                out.write_bytes(image_meta.strip_jpeg(Path(source.path).read_bytes()))
                ctx.progress(100, "Done")
                return ToolResult([out], _summary(before, converted=False, reencoded=False))
            except image_meta.JpegStructureError:
                pass  # unusual structure: let libvips decode and re-encode it
        image = vips.load(Path(source.path), source.kind, all_pages=fmt.animated)
        converted = False
        if image.get_typeof("icc-profile-data") and not _is_srgb(image.get("icc-profile-data")):
            # Without its profile a wide-gamut or CMYK image would be read as sRGB: convert the pixels.
            image = image.icc_transform("srgb", embedded=True, intent="relative")
            converted = True
        vips.save(_bare(image), out, fmt, _QUALITY if fmt.lossy else None, strip=True)
        if fmt.name == "webp":
            out.write_bytes(image_meta.strip_webp(out.read_bytes()))
    ctx.progress(100, "Done")
    return ToolResult([out], _summary(before, converted=converted, reencoded=True))


def _bare(image: pyvips.Image) -> pyvips.Image:
    """A copy without metadata fields: `strip` alone doesn't stop every libvips saver (PNG) writing them."""
    image = image.copy()
    for name in image.get_fields():
        if name.startswith(_METADATA_PREFIXES) or "comment" in name:
            image.remove(name)
    return image


def _summary(before: dict[str, Any], *, converted: bool, reencoded: bool) -> dict[str, Any]:
    return {
        "removed": before["present"],
        "removedFieldCount": before["fieldCount"],
        "iccConverted": converted,
        "reencoded": reencoded,
    }


@action("strip-metadata", "inspect", summary="List the metadata an image carries before stripping it")
def inspect(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    with vips.vips_errors():
        # Header only: metadata lives there, no pixels are decoded.
        data = image_meta.read_all(pyvips.Image.new_from_file(str(ctx.input.path)))
    return ToolResult([], data)
