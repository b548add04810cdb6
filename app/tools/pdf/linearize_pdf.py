"""Web-Optimize PDF: linearize, so the first page shows while the rest is still downloading."""

from __future__ import annotations

from app.engine.media import pdf
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool


@tool(
    id="linearize-pdf",
    section="pdf",
    title="Web-Optimize PDF",
    description="Linearize a PDF (fast web view): browsers show the first page before the whole file arrives.",
    settings=NoSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    with pdf.open_pdf(ctx.input) as doc:
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_web.pdf"), linearize=True)
        pages = len(doc.pages)
    return ToolResult([path], {"pages": pages, "linearized": True})
