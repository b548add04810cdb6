"""Markdown to HTML: a standalone, styled HTML page; raw HTML in the markdown is escaped (no <script>)."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import data, office
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class MarkdownToHtmlSettings(ToolSettings):
    standalone: bool = Field(True, description="A whole HTML page with a stylesheet (false: the fragment only)")


@tool(
    id="markdown-to-html",
    section="files",
    title="Markdown to HTML",
    description="Convert Markdown (CommonMark with tables and strikethrough) to HTML. Raw HTML in the source "
    "is shown as text, never passed through, so no script or event handler reaches the page.",
    settings=MarkdownToHtmlSettings,
    inputs=Inputs(kinds=("markdown", "txt")),
    formats=("md", "markdown", "txt"),
    produces=(Produces("html", preference=10),),
)
def run(ctx: ToolContext, settings: MarkdownToHtmlSettings) -> ToolResult:
    body = office.markdown_html(data.read_text(ctx.input.path))
    html = office.html_document(body, ctx.input.stem) if settings.standalone else body
    out = data.write_text(ctx.output_path(f"{ctx.input.stem}.html"), html)
    return ToolResult([out], {"standalone": settings.standalone})
