"""Grayscale PDF: every colour (text, drawings, images) converted to grey by Ghostscript."""

from __future__ import annotations

from app.engine.media import pdf
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool


@tool(
    id="grayscale-pdf",
    section="pdf",
    title="Grayscale PDF",
    description="Convert every page to shades of grey: text, drawings and images (for cheap black-and-white print).",
    settings=NoSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    pages = pdf.check_input(ctx.input)
    ctx.progress(5, "Converting to grey")
    out = ctx.output_path(f"{ctx.input.stem}_grayscale.pdf")
    args = ["-sColorConversionStrategy=Gray", "-dProcessColorModel=/DeviceGray", "-dCompatibilityLevel=1.6"]
    pdf.ghostscript(ctx, ctx.input.path, out, args, what="Grayscale conversion")
    pdf.finish_output(out)
    return ToolResult([out], {"pages": pages})
