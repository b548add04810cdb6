"""Convert to EPUB: a Word document, Markdown, HTML or plain text becomes an EPUB 3 e-book with pandoc
(sandboxed reader; pictures only from inside the document)."""

from __future__ import annotations

import html

from app.engine.media import data, office
from app.engine.tool import Inputs, NoSettings, Produces, ToolContext, ToolResult, tool

_READERS = {"docx": "docx", "markdown": "markdown", "html": "html", "txt": "html"}


@tool(
    id="to-epub",
    section="files",
    title="Convert to EPUB",
    description="Convert a Word document (.docx), Markdown, HTML or plain text to an EPUB 3 e-book with "
    "pandoc. Pictures embedded in a .docx are kept; pictures named by URL or file path are left out.",
    settings=NoSettings,
    inputs=Inputs(kinds=("docx", "markdown", "html", "txt")),
    formats=("docx", "md", "html", "txt"),
    long=True,
    produces=(Produces("epub", preference=10),),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    source = ctx.input.path
    if ctx.input.kind == "docx":
        office.check_container(source)
    elif ctx.input.kind == "txt":
        # Plain text: paragraphs at blank lines, everything else literal (markdown would reinterpret it).
        paragraphs = [p.strip() for p in data.read_text(source).replace("\r\n", "\n").split("\n\n") if p.strip()]
        page = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in paragraphs)
        source = data.write_text(ctx.output_path(".input.html"), f"<html><body>{page}</body></html>")
    ctx.progress(10, "Converting with pandoc")
    out = ctx.output_path(f"{ctx.input.stem}.epub")
    try:
        office.pandoc_tree(ctx, source, out, _READERS[ctx.input.kind], "epub3", ["--toc"], title=ctx.input.stem,
                           what="EPUB conversion")  # fmt: skip
    finally:
        if source != ctx.input.path:
            source.unlink(missing_ok=True)
    return ToolResult([out], {"from": ctx.input.kind})
