"""Markdown to Word: pandoc (reader sandboxed; pictures only from data: URIs, nothing fetched or read)."""

from __future__ import annotations

from app.engine.media import office
from app.engine.tool import Inputs, NoSettings, Produces, ToolContext, ToolResult, tool


@tool(
    id="markdown-to-docx",
    section="files",
    title="Markdown to Word",
    description="Convert Markdown (pandoc's dialect: tables, footnotes, code) to a Word document with pandoc. "
    "Pictures named by URL or file path are left out (their description stays); raw HTML is dropped.",
    settings=NoSettings,
    inputs=Inputs(kinds=("markdown", "txt")),
    formats=("md", "markdown", "txt"),
    long=True,
    produces=(Produces("docx", preference=10),),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    ctx.progress(10, "Converting with pandoc")
    out = ctx.output_path(f"{ctx.input.stem}.docx")
    office.pandoc_tree(ctx, ctx.input.path, out, "markdown", "docx", what="Markdown conversion")
    return ToolResult([out], {})
