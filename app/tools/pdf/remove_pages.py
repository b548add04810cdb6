"""Remove Pages: drop the pages a qpdf range names; at least one page must remain."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import pdf
from app.engine.media.pdf import PageSpec
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool


class RemovePagesSettings(ToolSettings):
    pages: PageSpec = Field("1", description="Pages to remove, qpdf syntax: 2,4-6,z (z = last page)")


@tool(
    id="remove-pages",
    section="pdf",
    title="Remove Pages",
    description="Delete the pages you list (qpdf range syntax such as 2,4-6,z).",
    settings=RemovePagesSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: RemovePagesSettings) -> ToolResult:
    with pdf.open_pdf(ctx.input) as doc:
        count = len(doc.pages)
        drop = set(pdf.parse_pages(settings.pages, count))
        if len(drop) >= count:
            raise InputRejected("That would remove every page; at least one must remain", 400, "PAGE_OUT_OF_RANGE")
        with pdf.pdf_errors():
            for i in sorted(drop, reverse=True):
                del doc.pages[i]
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_trimmed.pdf"))
    return ToolResult([path], {"pages": count - len(drop), "removedPages": len(drop)})
