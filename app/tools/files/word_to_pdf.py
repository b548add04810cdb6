"""Word to PDF: a Word, OpenDocument text or RTF document to PDF with LibreOffice (headless, macros off)."""

from __future__ import annotations

from app.engine.media import office
from app.engine.tool import Inputs, NoSettings, Produces, ToolContext, ToolResult, tool

KINDS = ("docx", "odt", "rtf", "txt")


@tool(
    id="word-to-pdf",
    section="files",
    title="Word to PDF",
    description="Convert a Word, OpenDocument text or RTF document to PDF with LibreOffice (headless, macros off).",
    settings=NoSettings,
    inputs=Inputs(kinds=KINDS),
    formats=KINDS,
    long=True,
    produces=(Produces("pdf", preference=10),),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    ctx.progress(5, "Converting with LibreOffice")
    out = office.soffice_convert(ctx, ctx.input, "writer-pdf", what="Word to PDF")
    return ToolResult([out], {"pages": office.pdf_pages(out), "from": ctx.input.kind})
