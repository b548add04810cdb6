"""Organize PDF: reorder (and repeat or drop) pages by a qpdf page order such as 3,1,2,5-z."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import pdf
from app.engine.media.pdf import PageSpec
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class OrganizePdfSettings(ToolSettings):
    order: PageSpec = Field(
        "1-z", description="New page order, qpdf syntax: 3,1,2,5-z (z = last page, z-1 reverses); unlisted pages go"
    )


@tool(
    id="organize-pdf",
    section="pdf",
    title="Organize PDF",
    description="Put pages in a new order (qpdf syntax such as 3,1,2,5-z; pages left out are dropped).",
    settings=OrganizePdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: OrganizePdfSettings) -> ToolResult:
    import pikepdf

    with pdf.open_pdf(ctx.input) as doc:
        order = pdf.parse_pages(settings.order, len(doc.pages))
        out = pikepdf.new()
        with pdf.pdf_errors():
            # A page listed twice is copied twice; qpdf would otherwise share one page object.
            for i in order:
                out.pages.append(doc.pages[i])
        path = pdf.save_pdf(out, ctx.output_path(f"{ctx.input.stem}_organized.pdf"))
    return ToolResult([path], {"pages": len(order), "order": [i + 1 for i in order]})
