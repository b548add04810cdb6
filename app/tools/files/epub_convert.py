"""Convert EPUB: an e-book to PDF, Word, HTML or Markdown with pandoc (sandboxed reader; the PDF is
laid out by WeasyPrint with remote resources disabled)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import data, office
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class EpubConvertSettings(ToolSettings):
    format: Literal["pdf", "docx", "html", "md"] = Field("pdf", description="Output format")


@tool(
    id="epub-convert",
    section="files",
    title="Convert EPUB",
    description="Convert an EPUB e-book to PDF, Word (.docx), a single HTML page (pictures embedded) or "
    "Markdown (text only: pictures are left out) with pandoc.",
    settings=EpubConvertSettings,
    inputs=Inputs(kinds=("epub",)),
    formats=("epub",),
    long=True,
    produces=tuple(
        Produces(kind, {"format": fmt}, preference=10)
        for fmt, kind in (("pdf", "pdf"), ("docx", "docx"), ("html", "html"), ("md", "markdown"))
    ),
)
def run(ctx: ToolContext, settings: EpubConvertSettings) -> ToolResult:
    office.check_container(ctx.input.path)
    stem = ctx.input.stem
    ctx.progress(10, "Reading the book with pandoc")
    if settings.format == "docx":
        out = office.pandoc_tree(ctx, ctx.input.path, ctx.output_path(f"{stem}.docx"), "epub", "docx",
                                 what="EPUB conversion")  # fmt: skip
    elif settings.format == "md":
        out = office.pandoc(ctx, ctx.input.path, ctx.output_path(f"{stem}.md"), "epub", "gfm", what="EPUB conversion")
    else:
        # One page with the book's pictures inlined as data: URIs (read from the book itself).
        page = ctx.output_path(f"{stem}.html")
        office.pandoc(ctx, ctx.input.path, page, "epub", "html5", ["--standalone", "--self-contained",
                      f"--metadata=pagetitle:{stem}"], what="EPUB conversion")  # fmt: skip
        if settings.format == "html":
            out = page
        else:
            ctx.progress(50, "Laying out the PDF")
            out = office.html_to_pdf(ctx, data.read_text(page), ctx.output_path(f"{stem}.pdf"))
            page.unlink()
            return ToolResult([out], {"format": "pdf", "pages": office.pdf_pages(out)})
    return ToolResult([out], {"format": settings.format})
