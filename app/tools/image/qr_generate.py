"""QR Code Generator: segno builds the symbol; Lutra draws it with dot and corner styles, colours and an
optional logo in the middle (JSON body, or multipart with the logo as the file)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

# segno and Pillow are imported where the code is drawn: the server process loads this module only
# for QrSettings, and only worker processes run the tool.
if TYPE_CHECKING:
    import segno
    from PIL import Image, ImageDraw

DotStyle = Literal["square", "rounded", "extra-rounded", "dots", "classy"]
CornerStyle = Literal["square", "rounded", "extra-rounded", "dot"]
LOGO_SHARE = 0.22  # of the symbol's width: small enough for level H (30 %) to recover what it hides
FINDER = 7


class QrSettings(ToolSettings):
    data: str = Field(..., min_length=1, max_length=2000, description="Text or URL to encode")
    size: int = Field(512, ge=64, le=4096, description="Width and height of the PNG in pixels")
    margin: int = Field(4, ge=0, le=20, description="Quiet zone around the code, in modules")
    colorDark: draw.Color = Field("#000000", description="Colour of the modules")
    colorLight: draw.Color = Field("#ffffff", description="Background colour (may be transparent, e.g. #ffffff00)")
    errorCorrectionLevel: Literal["L", "M", "Q", "H"] = Field(
        "M", description="Error correction: L 7 %, M 15 %, Q 25 %, H 30 % (H is used with a logo unless set)"
    )
    dotStyle: DotStyle = Field("square", description="Shape of the data modules")
    cornerStyle: CornerStyle = Field("square", description="Shape of the three finder patterns")


def _rounded(d: ImageDraw.ImageDraw, box: tuple[float, ...], radius: float, fill: draw.RGBA, **kw: object) -> None:
    # Pillow 11 fails on a radius of half the box with some corner combinations; stay just under.
    limit = (min(box[2] - box[0], box[3] - box[1])) // 2 - 1
    d.rounded_rectangle(box, radius=max(0, min(int(radius), int(limit))), fill=fill, **kw)  # type: ignore[arg-type]


def _in_finder(x: int, y: int, n: int) -> bool:
    return (x < FINDER and y < FINDER) or (x >= n - FINDER and y < FINDER) or (x < FINDER and y >= n - FINDER)


def _modules(d: ImageDraw.ImageDraw, matrix: list[bytearray], k: int, off: int, style: str, fill: draw.RGBA) -> None:
    n = len(matrix)

    def dark(x: int, y: int) -> bool:
        return 0 <= x < n and 0 <= y < n and bool(matrix[y][x]) and not _in_finder(x, y, n)

    for y in range(n):
        for x in range(n):
            if not dark(x, y):
                continue
            left, top = off + x * k, off + y * k
            cell = (left, top, left + k - 1, top + k - 1)
            if style == "square":
                d.rectangle(cell, fill=fill)
            elif style == "dots":
                inset = k * 0.08
                d.ellipse((left + inset, top + inset, left + k - 1 - inset, top + k - 1 - inset), fill=fill)
            else:
                # A corner is rounded only where neither neighbour continues the shape, so runs of
                # modules read as smooth strokes rather than beads.
                up, down, lf, rt = dark(x, y - 1), dark(x, y + 1), dark(x - 1, y), dark(x + 1, y)
                corners = (not (up or lf), not (up or rt), not (down or rt), not (down or lf))
                if style == "classy":
                    corners = (corners[0], False, corners[2], False)
                radius = k // 2 if style == "extra-rounded" else max(1, round(k * 0.35))
                _rounded(d, cell, radius, fill, corners=corners)


def _finders(d: ImageDraw.ImageDraw, n: int, k: int, off: int, style: str, fill: draw.RGBA, clear: draw.RGBA) -> None:
    for fx, fy in ((0, 0), (n - FINDER, 0), (0, n - FINDER)):
        left, top = off + fx * k, off + fy * k
        outer = (left, top, left + FINDER * k - 1, top + FINDER * k - 1)
        hole = (left + k, top + k, left + 6 * k - 1, top + 6 * k - 1)
        eye = (left + 2 * k, top + 2 * k, left + 5 * k - 1, top + 5 * k - 1)
        if style == "dot":
            d.ellipse(outer, fill=fill)
            d.ellipse(hole, fill=clear)
            d.ellipse(eye, fill=fill)
            continue
        radius = {"square": 0, "rounded": k * 2, "extra-rounded": round(k * 3.5)}[style]
        _rounded(d, outer, radius, fill)
        _rounded(d, hole, radius - k, clear)
        _rounded(d, eye, radius - 2 * k, fill)


def render(qr: segno.QRCode, settings: QrSettings) -> Image.Image:
    from PIL import Image, ImageDraw

    matrix = [bytearray(row) for row in qr.matrix]
    n = len(matrix)
    total = n + 2 * settings.margin
    # Drawn large (whole pixels per module), then resampled to the exact size: smooth dots, sharp edges.
    k = max(8, math.ceil(settings.size / total))
    dark, light = draw.parse_color(settings.colorDark), draw.parse_color(settings.colorLight)
    image = Image.new("RGBA", (total * k, total * k), light)
    # The finder holes are cut in a separate layer, so a transparent background stays transparent.
    shapes = Image.new("RGBA", image.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(shapes)
    off = settings.margin * k
    _modules(d, matrix, k, off, settings.dotStyle, dark)
    _finders(d, n, k, off, settings.cornerStyle, dark, (0, 0, 0, 0))
    image.alpha_composite(shapes)
    if image.size[0] != settings.size:
        image = image.resize((settings.size, settings.size), Image.Resampling.LANCZOS)
    return image


def add_logo(image: Image.Image, ctx: ToolContext, settings: QrSettings) -> None:
    from PIL import Image, ImageDraw

    source = ctx.input
    with vips.vips_errors():
        logo = draw.to_pil(vips.first_page(vips.load(source.path, source.kind, sequential=False)))
    side = round(image.width * LOGO_SHARE)
    logo.thumbnail((side, side), Image.Resampling.LANCZOS)
    pad = max(2, side // 12)
    # A light plate behind the logo keeps the modules around it from bleeding into its edges.
    plate = Image.new("RGBA", (logo.width + 2 * pad, logo.height + 2 * pad), (0, 0, 0, 0))
    light = draw.parse_color(settings.colorLight)
    ImageDraw.Draw(plate).rounded_rectangle(
        (0, 0, plate.width - 1, plate.height - 1), radius=pad * 2, fill=(*light[:3], 255)
    )
    plate.alpha_composite(logo.convert("RGBA"), (pad, pad))
    image.alpha_composite(plate, ((image.width - plate.width) // 2, (image.height - plate.height) // 2))


@tool(
    id="qr-generate",
    section="image",
    title="QR Code Generator",
    description="Make a QR code PNG: size, margin, colours, error correction, dot and corner styles, optional logo.",
    settings=QrSettings,
    inputs=Inputs(kinds=IMAGE_KINDS, min_files=0, max_files=1),
    formats=("png",),
)
def run(ctx: ToolContext, settings: QrSettings) -> ToolResult:
    import segno

    has_logo = bool(ctx.inputs)
    level = settings.errorCorrectionLevel
    if has_logo and "errorCorrectionLevel" not in settings.model_fields_set:
        level = "H"
    try:
        # boost_error=False: the level asked for is the level given (segno would raise it for free).
        qr = segno.make(settings.data, error=level.lower(), micro=False, boost_error=False)
    except segno.DataOverflowError:
        raise InputRejected(f"Too much data for a QR code at error correction level {level}", 400) from None
    image = render(qr, settings)
    if has_logo:
        add_logo(image, ctx, settings)
    if draw.parse_color(settings.colorLight)[3] == 255:
        image = image.convert("RGB")
    out = ctx.output_path("qrcode.png")
    image.save(out, optimize=True)
    data = {
        "version": qr.version,
        "errorCorrectionLevel": level,
        "modules": qr.symbol_size(border=0)[0],
        "width": image.width,
        "height": image.height,
        "logo": has_logo,
    }
    return ToolResult([out], data)
