"""Merge PDFs: 2 to 20 PDFs into one, in upload order."""

from __future__ import annotations

from contextlib import ExitStack

from app.engine.media import pdf
from app.engine.tool import InputRejected, Inputs, NoSettings, ToolContext, ToolResult, tool

MAX_FILES = 20


@tool(
    id="merge-pdf",
    section="pdf",
    title="Merge PDFs",
    description="Join 2 to 20 PDFs into one document, in the order they were uploaded.",
    settings=NoSettings,
    inputs=Inputs(kinds=("pdf",), min_files=2, max_files=MAX_FILES),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    import pikepdf

    out = pikepdf.new()
    limit = pdf.max_pages()
    # qpdf copies page streams lazily: every source stays open until the merged file is written.
    with ExitStack() as stack:
        for n, src in enumerate(ctx.inputs):
            ctx.check_cancelled()
            doc = stack.enter_context(pdf.open_pdf(src))
            if len(out.pages) + len(doc.pages) > limit:
                raise InputRejected(f"The merged PDF would have more than {limit} pages", 400, "TOO_MANY_PAGES")
            with pdf.pdf_errors():
                out.pages.extend(doc.pages)
            ctx.progress(80 * (n + 1) / len(ctx.inputs), "Merging")
        path = pdf.save_pdf(out, ctx.output_path(f"{ctx.input.stem}_merged.pdf"))
    return ToolResult([path], {"pages": len(out.pages), "files": len(ctx.inputs)})
