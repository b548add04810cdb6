"""Image to PDF: one page per image, on a standard page size or fitted to each image, optionally under
a target file size.

The PDF is written directly (it is a small, well-specified format): JPEG inputs are embedded as they
are (no re-encoding, no quality loss), other images as JPEG when opaque or as lossless Flate with a
soft mask when they have transparency.
"""

from __future__ import annotations

import io
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyvips
from pydantic import BaseModel, ConfigDict, Field

from app.engine.media import eps, vips
from app.engine.media.sniff import DESIGN_KINDS, IMAGE_KINDS
from app.engine.tool import InputFile, Inputs, Produces, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

MAX_FILES = 200
# Page sizes in PostScript points (1/72 inch), portrait.
PAGE_SIZES: dict[str, tuple[float, float]] = {
    "A4": (595.28, 841.89),
    "Letter": (612.0, 792.0),
    "Legal": (612.0, 1008.0),
    "A3": (841.89, 1190.55),
    "A5": (419.53, 595.28),
}
_DEFAULT_DPI = 96  # "fit" pages for images that don't state a resolution: what screens assume
_JPEG_QUALITY = 90
_TARGET_QUALITIES = (85, 75, 65, 55, 45, 35, 25)
_MIN_SIDE = 32


class TargetSize(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float = Field(..., gt=0, le=10_000, description="Target size")
    unit: Literal["KB", "MB"] = Field("KB", description="KB (1000 bytes) or MB (1000 KB)")

    @property
    def bytes(self) -> int:
        return int(self.value * (1000 if self.unit == "KB" else 1_000_000))


class ImageToPdfSettings(ToolSettings):
    pageSize: Literal["A4", "Letter", "Legal", "A3", "A5", "fit"] = Field(
        "A4", description="Paper size, or fit: each page takes its image's size"
    )
    orientation: Literal["portrait", "landscape"] = Field("portrait", description="Page orientation")
    margin: float = Field(0, ge=0, le=200, description="Margin on every side, in points (1/72 inch)")
    targetSize: TargetSize | None = Field(
        None, description="Largest PDF size {value, unit}: images are recompressed (and scaled) to fit"
    )


@dataclass
class Embedded:
    """One image as PDF objects want it."""

    width: int
    height: int
    colour: str  # /DeviceRGB or /DeviceGray
    data: bytes
    filter: str  # /DCTDecode or /FlateDecode
    mask: bytes | None = None  # Flate-compressed 8-bit alpha


def _passthrough(source: InputFile, head: pyvips.Image) -> Embedded | None:
    """The JPEG file itself when a PDF reader can show it as is (upright, 8-bit RGB or grey)."""
    if source.kind != "jpeg" or vips.orientation(head) != 1 or head.interpretation not in ("srgb", "b-w"):
        return None
    if head.bands not in (1, 3):
        return None
    colour = "/DeviceGray" if head.bands == 1 else "/DeviceRGB"
    return Embedded(head.width, head.height, colour, Path(source.path).read_bytes(), "/DCTDecode")


def _embed(image: pyvips.Image, quality: int, *, lossless_alpha: bool) -> Embedded:
    if image.coding != "none":
        image = image.decode()
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    alpha = None
    if image.hasalpha():
        alpha = image.extract_band(image.bands - 1)
        image = image.extract_band(0, n=image.bands - 1)
    colour = "/DeviceGray" if image.bands == 1 else "/DeviceRGB"
    if alpha is not None and lossless_alpha:
        return Embedded(
            image.width,
            image.height,
            colour,
            zlib.compress(image.write_to_memory(), 6),
            "/FlateDecode",
            zlib.compress(alpha.write_to_memory(), 6),
        )
    if alpha is not None:
        # Size matters more than transparency here: flatten onto the white page.
        image = image.bandjoin(alpha).flatten(background=[255] * image.bands)
    data = image.cast("uchar").write_to_buffer(".jpg", Q=quality, optimize_coding=True)
    return Embedded(image.width, image.height, colour, data, "/DCTDecode")


def _page_size(s: ImageToPdfSettings, image: Embedded, dpi: float) -> tuple[float, float]:
    if s.pageSize == "fit":
        # A fitted page follows its image's shape; orientation is for paper sizes.
        return image.width * 72 / dpi + 2 * s.margin, image.height * 72 / dpi + 2 * s.margin
    w, h = PAGE_SIZES[s.pageSize]
    return (h, w) if s.orientation == "landscape" else (w, h)


def write_pdf(pages: list[tuple[Embedded, float, float]], margin: float) -> bytes:
    """A PDF with one page per (image, page width, page height), the image centred and scaled to fit."""
    out = io.BytesIO()
    offsets: list[int] = []

    def obj(body: bytes) -> int:
        offsets.append(out.tell())
        number = len(offsets)
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
        return number

    def stream(header: str, data: bytes) -> bytes:
        return f"<< {header} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"

    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    # Objects 1 and 2 are the catalog and the page tree; pages follow, so their numbers are known.
    obj(b"<< /Type /Catalog /Pages 2 0 R >>")
    offsets.append(-1)  # the page tree is written last, once its kids are known
    out_pages: list[int] = []
    for image, page_w, page_h in pages:
        mask_ref = ""
        if image.mask is not None:
            mask = obj(
                stream(
                    f"/Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
                    "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
                    image.mask,
                )
            )
            mask_ref = f" /SMask {mask} 0 R"
        xobject = obj(
            stream(
                f"/Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
                f"/ColorSpace {image.colour} /BitsPerComponent 8 /Filter {image.filter}{mask_ref}",
                image.data,
            )
        )
        box_w, box_h = max(page_w - 2 * margin, 1), max(page_h - 2 * margin, 1)
        scale = min(box_w / image.width, box_h / image.height)
        draw_w, draw_h = image.width * scale, image.height * scale
        x, y = (page_w - draw_w) / 2, (page_h - draw_h) / 2
        content = obj(stream("", f"q {draw_w:.4f} 0 0 {draw_h:.4f} {x:.4f} {y:.4f} cm /Im0 Do Q".encode()))
        page = obj(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_w:.2f} {page_h:.2f}] "
            f"/Resources << /XObject << /Im0 {xobject} 0 R >> >> /Contents {content} 0 R >>".encode()
        )
        out_pages.append(page)
    kids = " ".join(f"{p} 0 R" for p in out_pages)
    offsets[1] = out.tell()
    out.write(f"2 0 obj\n<< /Type /Pages /Kids [{kids}] /Count {len(out_pages)} >>\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


@tool(
    id="image-to-pdf",
    section="image",
    title="Image to PDF",
    description="Combine images into one PDF, one page each: A4, Letter, Legal, A3, A5 or fitted pages, "
    "portrait or landscape, with margins and an optional target size.",
    settings=ImageToPdfSettings,
    inputs=Inputs(kinds=(*IMAGE_KINDS, *DESIGN_KINDS), min_files=1, max_files=MAX_FILES),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff", "bmp", "psd", "eps"),
    produces=(Produces("pdf", preference=20),),
)
def run(ctx: ToolContext, settings: ImageToPdfSettings) -> ToolResult:
    total = len(ctx.inputs)
    loaded: list[tuple[InputFile, pyvips.Image, float]] = []
    with vips.vips_errors():
        for index, upload in enumerate(ctx.inputs):
            ctx.check_cancelled()
            source = eps.readable(ctx, upload)
            head = pyvips.Image.new_from_file(str(source.path))
            dpi = vips.dpi(head) or _DEFAULT_DPI
            image = vips.first_page(vips.load(Path(source.path), source.kind, sequential=False))
            loaded.append((source, image, dpi))
            ctx.progress(5 + 40 * (index + 1) / total, f"Read {index + 1} of {total}")

        def build(quality: int, factor: float, lossless_alpha: bool, passthrough: bool) -> bytes:
            pages = []
            for source, image, dpi in loaded:
                embedded = None
                if passthrough and factor == 1.0:
                    embedded = _passthrough(source, pyvips.Image.new_from_file(str(source.path)))
                if embedded is None:
                    scaled = image if factor == 1.0 else vips.scale(image, factor)
                    embedded = _embed(scaled, quality, lossless_alpha=lossless_alpha)
                page_w, page_h = _page_size(settings, embedded, dpi * factor)
                pages.append((embedded, page_w, page_h))
            return write_pdf(pages, settings.margin)

        pdf = build(_JPEG_QUALITY, 1.0, lossless_alpha=True, passthrough=True)
        data: dict[str, object] = {"pages": total, "pageSize": settings.pageSize}
        if settings.targetSize is not None:
            target = settings.targetSize.bytes
            reached = len(pdf) <= target
            factor = 1.0
            while not reached:
                for quality in _TARGET_QUALITIES:
                    ctx.check_cancelled()
                    pdf = build(quality, factor, lossless_alpha=False, passthrough=False)
                    if len(pdf) <= target:
                        reached = True
                        break
                if reached:
                    break
                # Still too big at the lowest quality: scale the images down by about the missing ratio.
                factor *= max(0.3, min(0.85, math.sqrt(target / len(pdf))))
                smallest = min(min(img.width, img.height) for _, img, _ in loaded) * factor
                if smallest < _MIN_SIDE:
                    break
                ctx.progress(60, "Scaling images down to reach the target size")
            data.update(targetReached=reached, targetBytes=target)
    if not pdf:
        raise ToolFailure("Could not build the PDF")
    stem = ctx.input.stem if total == 1 else "images"
    out = ctx.output_path(f"{stem}.pdf")
    out.write_bytes(pdf)
    ctx.progress(100, "Done")
    return ToolResult([out], data)
