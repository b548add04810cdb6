"""PDF to Text: the text layer of a PDF as UTF-8 (poppler's pdftotext, reading order; pages end with
a form feed). Scanned pages have no text layer: run ocr-pdf first."""

from __future__ import annotations

from app.engine.media import pdf
from app.engine.tool import Inputs, NoSettings, Produces, ToolContext, ToolResult, tool


@tool(
    id="pdf-to-text",
    section="pdf",
    title="PDF to Text",
    description="Extract the text of a PDF as a UTF-8 text file (scanned pages need ocr-pdf first).",
    settings=NoSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
    produces=(Produces("txt", preference=20),),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    pages = pdf.check_input(ctx.input)
    text = pdf.pdftotext(ctx, ctx.input.path)
    out = ctx.output_path(f"{ctx.input.stem}.txt")
    out.write_text(text, "utf-8")
    return ToolResult([out], {"pages": pages, "characters": len(text), "words": len(text.split()),
                              "hasText": bool(text.strip())})  # fmt: skip
