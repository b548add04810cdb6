"""HTML to PDF: WeasyPrint with remote resources disabled (nothing is fetched: file:// and network URLs
alike) and no JavaScript."""

from __future__ import annotations

from app.engine.media import data, office
from app.engine.tool import Inputs, NoSettings, Produces, ToolContext, ToolResult, tool


@tool(
    id="html-to-pdf",
    section="files",
    title="HTML to PDF",
    description="Convert an HTML file to PDF with WeasyPrint (CSS paged media). Remote resources are disabled: "
    "pictures, stylesheets and fonts named by URL or file path are left out; data: URIs still show. Scripts "
    "do not run.",
    settings=NoSettings,
    inputs=Inputs(kinds=("html",)),
    formats=("html", "htm"),
    long=True,
    produces=(Produces("pdf", preference=10),),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    ctx.progress(10, "Rendering")
    out = office.html_to_pdf(ctx, data.read_text(ctx.input.path), ctx.output_path(f"{ctx.input.stem}.pdf"))
    return ToolResult([out], {"pages": office.pdf_pages(out)})
