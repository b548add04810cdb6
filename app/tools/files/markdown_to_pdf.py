"""Markdown to PDF: markdown-it renders HTML (raw HTML escaped), WeasyPrint lays it out; remote
resources are disabled, so nothing is fetched (file:// and network URLs alike)."""

from __future__ import annotations

from app.engine.media import data, office
from app.engine.tool import Inputs, NoSettings, Produces, ToolContext, ToolResult, tool


@tool(
    id="markdown-to-pdf",
    section="files",
    title="Markdown to PDF",
    description="Convert Markdown to a PDF (A4) with WeasyPrint. Remote resources are disabled: pictures and "
    "stylesheets named by URL or file path are left out; data: URIs still show.",
    settings=NoSettings,
    inputs=Inputs(kinds=("markdown", "txt")),
    formats=("md", "markdown", "txt"),
    long=True,
    produces=(Produces("pdf", preference=10),),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    ctx.progress(10, "Rendering")
    html = office.html_document(office.markdown_html(data.read_text(ctx.input.path)), ctx.input.stem)
    out = office.html_to_pdf(ctx, html, ctx.output_path(f"{ctx.input.stem}.pdf"))
    return ToolResult([out], {"pages": office.pdf_pages(out)})
