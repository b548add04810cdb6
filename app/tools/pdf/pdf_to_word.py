"""PDF to Word: a .docx from a PDF through LibreOffice's PDF import (headless, macros off).

Fidelity is weak, and that is named here on purpose: LibreOffice imports each PDF page as positioned
text frames and shapes, so the Word file looks like the PDF but its text does not flow as paragraphs;
tables become loose text, and scanned pages stay pictures (run ocr-pdf first to get their text).
"""

from __future__ import annotations

import shutil

from app.engine.media import pdf
from app.engine.tool import Inputs, NoSettings, Produces, ToolContext, ToolResult, tool


@tool(
    id="pdf-to-word",
    section="pdf",
    title="PDF to Word",
    description="Convert a PDF to an editable Word document (.docx) with LibreOffice; the layout is kept as "
    "positioned text boxes, so text does not reflow like a native document.",
    settings=NoSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
    long=True,
    produces=(Produces("docx", preference=20),),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    pages = pdf.check_input(ctx.input)
    ctx.progress(5, "Converting with LibreOffice")
    try:
        converted = pdf.soffice_convert(
            ctx, ctx.input.path, "docx", "MS Word 2007 XML", infilter="writer_pdf_import", what="PDF to Word"
        )
        out = ctx.output_path(f"{ctx.input.stem}.docx")
        shutil.move(converted, out)
    finally:
        pdf.cleanup_soffice(ctx)
    return ToolResult([out], {"pages": pages, "engine": "LibreOffice PDF import", "fidelity": "layout as text boxes"})
