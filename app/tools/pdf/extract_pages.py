"""Extract Pages: a new PDF with the pages a qpdf range names, in that order."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import pdf
from app.engine.media.pdf import PageSpec
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class ExtractPagesSettings(ToolSettings):
    range: PageSpec = Field("1", description="Pages to keep, qpdf syntax: 1-5,8,10-z (z = last page, r1 = last)")


@tool(
    id="extract-pages",
    section="pdf",
    title="Extract Pages",
    description="Make a new PDF from the pages you list (qpdf range syntax such as 1-5,8,10-z).",
    settings=ExtractPagesSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: ExtractPagesSettings) -> ToolResult:
    import pikepdf

    with pdf.open_pdf(ctx.input) as doc:
        pages = pdf.parse_pages(settings.range, len(doc.pages))
        out = pikepdf.new()
        with pdf.pdf_errors():
            out.pages.extend(doc.pages[i] for i in pages)
        path = pdf.save_pdf(out, ctx.output_path(f"{ctx.input.stem}_pages.pdf"))
    return ToolResult([path], {"pages": len(pages)})
