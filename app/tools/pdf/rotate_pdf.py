"""Rotate PDF: turn all pages, or a page range, by 90, 180 or 270 degrees clockwise."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import pdf
from app.engine.media.pdf import PageSpec
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class RotatePdfSettings(ToolSettings):
    angle: Literal[90, 180, 270] = Field(90, description="Clockwise turn in degrees")
    range: PageSpec | None = Field(None, description="Pages to turn (qpdf syntax, e.g. 1-3,5-z); empty: all pages")


@tool(
    id="rotate-pdf",
    section="pdf",
    title="Rotate PDF",
    description="Turn every page, or the pages you list, by 90, 180 or 270 degrees (lossless: sets the page rotation).",
    settings=RotatePdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: RotatePdfSettings) -> ToolResult:
    with pdf.open_pdf(ctx.input) as doc:
        count = len(doc.pages)
        chosen = sorted(set(pdf.parse_pages(settings.range, count))) if settings.range else list(range(count))
        with pdf.pdf_errors():
            for i in chosen:
                doc.pages[i].rotate(settings.angle, relative=True)
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_rotated.pdf"))
    return ToolResult([path], {"pages": count, "rotatedPages": len(chosen)})
