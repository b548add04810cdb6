"""Repair PDF: rebuild a damaged PDF's cross-reference table and structure with qpdf's recovery.

A file is only handed back when every page's content could be read: a "repaired" PDF that silently
lost pages' content would look fine and be wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.engine.media import pdf
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolFailure, ToolResult, tool

if TYPE_CHECKING:
    import pikepdf


def _check_pages(doc: pikepdf.Pdf) -> None:
    import pikepdf

    for n, page in enumerate(doc.pages, 1):
        try:
            contents = page.obj.get("/Contents")
            streams = contents if isinstance(contents, pikepdf.Array) else [contents] if contents is not None else []
            for stream in streams:
                if not isinstance(stream, pikepdf.Stream):
                    raise ToolFailure(f"page {n}'s content is lost; the PDF cannot be repaired")
                stream.read_bytes()
            pikepdf.parse_content_stream(page)
        except (pikepdf.PdfError, RuntimeError) as exc:
            raise ToolFailure(f"page {n}'s content is damaged beyond repair") from exc


@tool(
    id="repair-pdf",
    section="pdf",
    title="Repair PDF",
    description="Rebuild a damaged PDF (broken cross-reference table, bad offsets) with qpdf's recovery.",
    settings=NoSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    with pdf.open_pdf(ctx.input, require_complete=False) as doc:
        warnings = len(doc.get_warnings())
        _check_pages(doc)
        if warnings and not pdf.looks_complete(ctx.input.path):
            # Cut short: whatever follows the cut (later pages, fonts, images) is gone; qpdf's
            # "recovery" would hand back a plausible but incomplete document.
            raise ToolFailure("the PDF is cut short; the missing part cannot be recovered")
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_repaired.pdf"))
        pages = len(doc.pages)
    return ToolResult([path], {"pages": pages, "problemsFixed": warnings})
