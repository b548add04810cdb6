"""Favicon Generator: every standard icon size from one image, in a ZIP with favicon.ico (16/32/48),
PNGs (16, 32, 48, 180 apple-touch-icon, 192, 512), site.webmanifest and the HTML to paste."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pyvips
from pydantic import Field

from app.engine.media import adjust, vips
from app.engine.media.adjust import HexOrTransparent
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

ICO_SIZES = (16, 32, 48)
PNG_FILES = {
    "favicon-16x16.png": 16,
    "favicon-32x32.png": 32,
    "favicon-48x48.png": 48,
    "apple-touch-icon.png": 180,
    "android-chrome-192x192.png": 192,
    "android-chrome-512x512.png": 512,
}
HTML = """<link rel="icon" href="/favicon.ico" sizes="48x48">
<link rel="icon" type="image/png" sizes="32x32" href="/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="/favicon-16x16.png">
<link rel="apple-touch-icon" sizes="180x180" href="/apple-touch-icon.png">
<link rel="manifest" href="/site.webmanifest">
"""


class FaviconSettings(ToolSettings):
    padding: float = Field(0, ge=0, le=40, description="Space around the image, in percent of the icon size")
    backgroundColor: HexOrTransparent = Field("transparent", description="Background colour (hex) or 'transparent'")
    borderRadius: float = Field(
        0, ge=0, le=50, description="Corner radius in percent of the icon size (50 makes a circle)"
    )


def _rounded_mask(size: int, radius: float) -> pyvips.Image:
    """A size x size alpha mask of a rounded square; we write this SVG ourselves, nothing untrusted."""
    r = size * radius / 100
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">'
        f'<rect width="{size}" height="{size}" rx="{r:.3f}" ry="{r:.3f}" fill="#fff"/></svg>'
    )
    return pyvips.Image.svgload_buffer(svg.encode())[3]


def render(path: Path, size: int, s: FaviconSettings, opaque: bool = False) -> pyvips.Image:
    """One square RGBA icon: the image fitted inside the padding, on the background, corners rounded."""
    inner = max(1, size - 2 * round(size * s.padding / 100))
    # thumbnail decodes at the needed size (and renders SVG sharp at it), never the full image.
    image = pyvips.Image.thumbnail(str(path), inner, height=inner, size="both", fail_on="truncated")
    image = vips.first_page(image)
    image = vips.ensure_alpha(adjust.to_rgb8(image))
    left, top = (size - image.width) // 2, (size - image.height) // 2
    icon = image.embed(left, top, size, size, background=[0, 0, 0, 0])
    background = adjust.parse_hex(s.backgroundColor)
    if opaque and background[3] < 255:
        background = (255, 255, 255, 255)  # iOS paints transparent touch icons black: give it white
    if background[3] > 0:
        canvas = (pyvips.Image.black(size, size, bands=4) + list(background)).cast("uchar")
        icon = canvas.copy(interpretation="srgb").composite2(icon, "over")
    if s.borderRadius > 0:
        mask = _rounded_mask(size, s.borderRadius)
        alpha = (icon[3].cast("float") * mask.cast("float") / 255).cast("uchar")
        icon = icon.extract_band(0, n=3).bandjoin(alpha)
    return icon.cast("uchar").copy(interpretation="srgb")


def write_ico(pngs: list[tuple[int, bytes]]) -> bytes:
    """An ICO holding PNG-compressed entries (supported by every browser and Windows since Vista)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, data in pngs:
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    return header + entries + blobs


def manifest(s: FaviconSettings) -> dict[str, object]:
    colour = s.backgroundColor if s.backgroundColor != "transparent" else "#ffffff"
    return {
        "name": "",
        "short_name": "",
        "icons": [
            {"src": "/android-chrome-192x192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/android-chrome-512x512.png", "sizes": "512x512", "type": "image/png"},
        ],
        "theme_color": colour,
        "background_color": colour,
        "display": "standalone",
    }


@tool(
    id="favicon",
    section="image",
    title="Favicon Generator",
    description="Every standard favicon and app icon size from one image: favicon.ico, PNGs, "
    "apple-touch-icon, Android icons, site.webmanifest and the HTML tags, in a ZIP.",
    settings=FaviconSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("png", "svg", "jpeg", "webp", "gif"),
)
def run(ctx: ToolContext, settings: FaviconSettings) -> ToolResult:
    path = Path(ctx.input.path)
    out = ctx.output_path("favicons.zip")
    files: list[str] = []
    with vips.vips_errors(), zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        ico_entries: list[tuple[int, bytes]] = []
        for index, (name, size) in enumerate(PNG_FILES.items()):
            ctx.check_cancelled()
            icon = render(path, size, settings, opaque=name == "apple-touch-icon.png")
            data = icon.write_to_buffer(".png", compression=9)
            archive.writestr(name, data)
            files.append(name)
            if size in ICO_SIZES:
                ico_entries.append((size, data))
            ctx.progress(10 + 80 * (index + 1) / len(PNG_FILES), f"Rendered {size}x{size}")
        archive.writestr("favicon.ico", write_ico(ico_entries))
        archive.writestr("site.webmanifest", json.dumps(manifest(settings), indent=2) + "\n")
        archive.writestr("favicon.html", HTML)
        files += ["favicon.ico", "site.webmanifest", "favicon.html"]
    ctx.progress(100, "Done")
    return ToolResult([out], {"files": files, "html": HTML, "manifest": manifest(settings)})
