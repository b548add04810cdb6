"""Crop PDF: trim the same margin off every side of every page (sets the CropBox; nothing is deleted)."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import pdf
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool


class CropPdfSettings(ToolSettings):
    margin: float = Field(36, ge=0, le=2000, description="Margin trimmed from each side, in points (72 = 1 inch)")


@tool(
    id="crop-pdf",
    section="pdf",
    title="Crop PDF",
    description="Trim a margin off every side of every page (sets each page's CropBox, so it can be undone).",
    settings=CropPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: CropPdfSettings) -> ToolResult:
    import pikepdf

    m = settings.margin
    with pdf.open_pdf(ctx.input) as doc, pdf.pdf_errors():
        for n, page in enumerate(doc.pages, 1):
            x0, y0, x1, y1 = pdf.visible_box(page)
            if x1 - x0 - 2 * m < 1 or y1 - y0 - 2 * m < 1:
                raise InputRejected(
                    f"A {m:g} pt margin leaves nothing of page {n} ({x1 - x0:g} x {y1 - y0:g} pt)", 400, "INVALID_INPUT"
                )
            page.cropbox = pikepdf.Array([x0 + m, y0 + m, x1 - m, y1 - m])
            if "/TrimBox" in page.obj:
                del page.obj["/TrimBox"]
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_cropped.pdf"))
        pages = len(doc.pages)
    return ToolResult([path], {"pages": pages, "margin": m})
