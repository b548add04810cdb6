"""PDF to Image: render pages to PNG, JPEG or WebP with libvips' poppler loader; a ZIP for several
pages. Sub-routes: /info (page count and sizes) and /preview (one page, returned as the image)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pyvips
from pydantic import Field, field_validator

from app.engine.media import layout, pdf
from app.engine.tool import (
    InputRejected,
    Inputs,
    Produces,
    ToolContext,
    ToolFailure,
    ToolResult,
    ToolSettings,
    action,
    tool,
)

Format = Literal["png", "jpg", "webp", "tiff"]


class PdfToImageSettings(ToolSettings):
    pages: str = Field("all", description="all, or the pages to render in qpdf syntax (1-3,5,z)")
    format: Format = Field("png", description="Image format")
    dpi: int = Field(
        150, ge=36, le=600, description="Resolution: 72 is the page's size in points, 150 screen, 300 print"
    )
    quality: int = Field(85, ge=1, le=100, description="Quality for jpg and webp")

    @field_validator("pages")
    @classmethod
    def _pages(cls, value: str) -> str:
        value = value.strip()
        return "all" if value.lower() == "all" else pdf.check_page_spec(value)


class PreviewSettings(ToolSettings):
    page: int = Field(1, ge=1, le=100_000, description="Page to show, from 1")
    dpi: int = Field(72, ge=18, le=300, description="Resolution of the preview")
    format: Format = Field("png", description="Image format")
    quality: int = Field(80, ge=1, le=100, description="Quality for jpg and webp")


def _max_pixels() -> int:
    from app.config import get_settings

    return get_settings().max_megapixels * 1_000_000


def render(path: Path, index: int, dpi: int, size: tuple[float, float]) -> pyvips.Image:
    """One page as opaque sRGB pixels (white behind transparent areas), refused when too large."""
    w, h = size
    if (w * dpi / 72) * (h * dpi / 72) > _max_pixels():
        raise InputRejected(
            f"Page {index + 1} at {dpi} dpi would be over the pixel limit; choose a lower dpi", 400, "IMAGE_TOO_LARGE"
        )
    try:
        image = pyvips.Image.pdfload(str(path), page=index, dpi=dpi, access="sequential")
        if image.hasalpha():
            image = image.flatten(background=[255, 255, 255])
        return image.copy_memory()
    except pyvips.Error as exc:
        raise ToolFailure(f"page {index + 1} could not be rendered") from exc


def write(image: pyvips.Image, out: Path, fmt: str, quality: int) -> Path:
    options: dict[str, Any] = {"Q": quality} if fmt in ("jpg", "webp") else {"compression": 6}
    if fmt == "tiff":
        options = {"compression": "deflate"}
    image.write_to_file(str(out), strip=True, **options)
    return out


def _sizes(doc: Any) -> list[tuple[float, float]]:
    """Each page's visible size in points as viewers show it (90/270 rotations swap the sides)."""
    sizes = []
    for page in doc.pages:
        x0, y0, x1, y1 = pdf.visible_box(page)
        turn = int(page.obj.get("/Rotate", 0)) % 180
        sizes.append((y1 - y0, x1 - x0) if turn else (x1 - x0, y1 - y0))
    return sizes


@tool(
    id="pdf-to-image",
    section="pdf",
    title="PDF to Image",
    description="Render PDF pages as PNG, JPEG, WebP or TIFF images at the resolution you choose; a ZIP for several "
    "pages.",
    settings=PdfToImageSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
    produces=tuple(
        Produces(kind, {"format": fmt}, several=True, preference=20)
        for fmt, kind in (("png", "png"), ("jpg", "jpeg"), ("webp", "webp"), ("tiff", "tiff"))
    ),
)
def run(ctx: ToolContext, settings: PdfToImageSettings) -> ToolResult:
    src = ctx.input
    with pdf.open_pdf(src) as doc, pdf.pdf_errors():
        count = len(doc.pages)
        sizes = _sizes(doc)
        chosen = list(range(count)) if settings.pages == "all" else pdf.parse_pages(settings.pages, count)
    ext = settings.format
    files: list[Path] = []
    numbers = list(dict.fromkeys(i + 1 for i in chosen))  # in the order asked, each page once
    for n, number in enumerate(numbers):
        ctx.check_cancelled()
        image = render(src.path, number - 1, settings.dpi, sizes[number - 1])
        files.append(write(image, ctx.output_path(f"{src.stem}-page-{number}.{ext}"), ext, settings.quality))
        ctx.progress(95 * (n + 1) / len(numbers), "Rendering pages")
    # SnapOtter's answer: every page with its own link, plus one ZIP of them all when there are several.
    # Output names under keys ending in "Url" become signed download URLs in the answer.
    data: dict[str, Any] = {
        "pages": [
            {"page": number, "downloadUrl": path.name, "size": path.stat().st_size}
            for number, path in zip(numbers, files, strict=True)
        ],
        "selectedPages": numbers,
        "pageCount": count,
        "zipUrl": None,
        "zipSize": None,
        "format": ext,
        "dpi": settings.dpi,
    }
    if len(files) > 1:
        archive = layout.write_zip(ctx.output_path(f"{src.stem}_images.zip"), [(p.name, p) for p in files])
        data.update(zipUrl=archive.name, zipSize=archive.stat().st_size, downloadUrl=archive.name)
    # The page images are the outputs: a pipeline's next step or a batch's ZIP gets them one by one.
    return ToolResult(files, data)


@action("pdf-to-image", "info", summary="Page count and page sizes of a PDF")
def info(ctx: ToolContext, settings: PdfToImageSettings) -> ToolResult:
    with pdf.open_pdf(ctx.input) as doc, pdf.pdf_errors():
        sizes = _sizes(doc)
        rotations = [int(p.obj.get("/Rotate", 0)) % 360 for p in doc.pages]
        version = doc.pdf_version
    pages = [
        {"page": i + 1, "widthPt": round(w, 2), "heightPt": round(h, 2), "rotation": rotations[i]}
        for i, (w, h) in enumerate(sizes)
    ]
    return ToolResult([], {"pageCount": len(pages), "pdfVersion": version, "pages": pages})


@action("pdf-to-image", "preview", summary="One page of a PDF as an image", returns="file", settings=PreviewSettings)
def preview(ctx: ToolContext, settings: PreviewSettings) -> ToolResult:
    with pdf.open_pdf(ctx.input) as doc, pdf.pdf_errors():
        count = len(doc.pages)
        if settings.page > count:
            raise InputRejected(f"Page {settings.page} does not exist: this PDF has {count} pages", 400,
                                "PAGE_OUT_OF_RANGE")  # fmt: skip
        size = _sizes(doc)[settings.page - 1]
    image = render(ctx.input.path, settings.page - 1, settings.dpi, size)
    out = write(image, ctx.output_path(f"{ctx.input.stem}_page{settings.page}.{settings.format}"), settings.format,
                settings.quality)  # fmt: skip
    return ToolResult([out], {"page": settings.page, "pageCount": count, "width": image.width, "height": image.height})
