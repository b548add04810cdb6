"""Barcode Reader: finds and decodes every barcode zxing-cpp reads (QR, Micro QR, DataMatrix, Aztec,
PDF417, EAN/UPC, Code 128/39/93, ITF, Codabar, DataBar ...) with their corner positions, and draws
numbered boxes on a copy of the image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

if TYPE_CHECKING:
    import zxingcpp

BOX_COLOURS = ((59, 130, 246), (34, 197, 94), (245, 158, 11), (239, 68, 68), (168, 85, 247), (236, 72, 153))


class BarcodeReadSettings(ToolSettings):
    tryHarder: bool = Field(
        True, description="Also look for rotated, inverted (light on dark) and downscaled codes (slower)"
    )


def _point(p: Any) -> dict[str, int]:
    return {"x": int(p.x), "y": int(p.y)}


def describe(code: zxingcpp.Barcode) -> dict[str, Any]:
    pos = code.position
    return {
        "type": code.format.name,
        "format": str(code.format),  # human name, e.g. "EAN-13"
        "text": code.text,
        "symbology": code.symbology,
        "errorCorrectionLevel": code.ec_level or None,
        "position": {
            "topLeft": _point(pos.top_left),
            "topRight": _point(pos.top_right),
            "bottomRight": _point(pos.bottom_right),
            "bottomLeft": _point(pos.bottom_left),
        },
        "orientation": code.orientation,
    }


@tool(
    id="barcode-read",
    section="image",
    title="Barcode Reader",
    description="Decode QR, DataMatrix, Aztec, PDF417, EAN/UPC, Code 128/39 and other barcodes, with positions.",
    settings=BarcodeReadSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif", "bmp"),
)
def run(ctx: ToolContext, settings: BarcodeReadSettings) -> ToolResult:
    import zxingcpp
    from PIL import ImageDraw

    source = ctx.input
    ctx.progress(5, "Looking for barcodes")
    with vips.vips_errors():
        image = draw.flatten(vips.first_page(vips.load(source.path, source.kind, sequential=False)))
        picture = draw.to_pil(image)
    harder = settings.tryHarder
    found = zxingcpp.read_barcodes(picture.convert("L"), try_rotate=harder, try_downscale=harder, try_invert=harder)
    codes = [describe(c) for c in found if c.valid]
    ctx.progress(80, "Marking them")
    canvas = ImageDraw.Draw(picture, "RGBA")
    line = max(2, min(picture.size) // 200)
    font = draw.load_font("sans-serif-bold", max(12, min(picture.size) // 30))
    for n, code in enumerate(codes):
        colour = BOX_COLOURS[n % len(BOX_COLOURS)]
        corners = [code["position"][k] for k in ("topLeft", "topRight", "bottomRight", "bottomLeft")]
        points = [(c["x"], c["y"]) for c in corners]
        canvas.polygon(points, fill=(*colour, 50), outline=(*colour, 255), width=line)
        canvas.text((points[0][0] + line, points[0][1] + line), str(n + 1), fill=(*colour, 255), font=font)
    out = vips.output_path(ctx, "png", "barcodes")
    picture.save(out)
    ctx.progress(100, "Done")
    return ToolResult([out], {"barcodes": codes, "count": len(codes)})
