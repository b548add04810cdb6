"""PDF Page Numbers: print each page's number in a corner or at the middle of an edge."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.engine.media import pdf
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class PageNumbersSettings(ToolSettings):
    position: Literal["bl", "bc", "br", "tl", "tc", "tr"] = Field(
        "bc", description="bl/bc/br: bottom left/centre/right; tl/tc/tr: top left/centre/right"
    )
    fontSize: int = Field(12, ge=6, le=72, description="Font size in points")
    start: int = Field(1, ge=0, le=100_000, description="Number printed on the first page")
    format: Literal["n", "n of total", "page n", "page n of total"] = Field(
        "n", description="What is printed: 3, 3 of 10, Page 3 or Page 3 of 10"
    )


def _label(fmt: str, n: int, total: int) -> str:
    text = {"n": f"{n}", "n of total": f"{n} of {total}", "page n": f"Page {n}"}.get(fmt, f"Page {n} of {total}")
    return text


@tool(
    id="pdf-page-numbers",
    section="pdf",
    title="PDF Page Numbers",
    description="Add page numbers at a corner or edge of every page, in the size you choose.",
    settings=PageNumbersSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: PageNumbersSettings) -> ToolResult:
    s = settings

    with pdf.open_pdf(ctx.input) as doc:
        count = len(doc.pages)
        last = s.start + count - 1

        def draw(canvas: Any, index: int, width: float, height: float) -> None:
            margin = max(18.0, s.fontSize * 1.5)
            label = _label(s.format, s.start + index, last)
            y = margin if s.position[0] == "b" else height - margin - s.fontSize * 0.7
            canvas.setFont("DejaVuSans", s.fontSize)
            canvas.setFillColorRGB(0, 0, 0)
            if s.position[1] == "l":
                canvas.drawString(margin, y, label)
            elif s.position[1] == "r":
                canvas.drawRightString(width - margin, y, label)
            else:
                canvas.drawCentredString(width / 2, y, label)

        pdf.stamp_pages(doc, range(count), draw)
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_numbered.pdf"))
    return ToolResult([path], {"pages": count})
