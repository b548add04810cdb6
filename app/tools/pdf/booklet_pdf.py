"""Booklet PDF: saddle-stitch imposition. Print the sheets double-sided (flip on the short edge),
stack them in order, fold in the middle and staple: the pages read 1, 2, 3 ...

perSheet is the number of pages on each side of a sheet. 2 is the classic booklet: two pages side by
side, the sheet folded once. 4, 6 and 8 stack 2, 3 or 4 such spreads on each side: cut each sheet
into strips, keep the strips in order (top strip of sheet 1, next strip of sheet 1, ... then sheet 2),
and nest them as one booklet.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import pdf
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class BookletPdfSettings(ToolSettings):
    perSheet: Literal[2, 4, 6, 8] = Field(
        2, description="Pages on each side of a sheet: 2 = fold once; 4, 6, 8 = 2, 3, 4 strips to cut and nest"
    )


def imposition(count: int) -> list[tuple[int | None, int | None]]:
    """The spreads (left, right page index; None = blank) of a saddle-stitched booklet, in print order:
    sheet 1 front, sheet 1 back, sheet 2 front, ... The page count is padded to a multiple of 4."""
    total = -(-count // 4) * 4

    def page(i: int) -> int | None:
        return i if i < count else None

    spreads = []
    for sheet in range(total // 4):
        spreads.append((page(total - 1 - 2 * sheet), page(2 * sheet)))  # front: last, first
        spreads.append((page(2 * sheet + 1), page(total - 2 - 2 * sheet)))  # back: second, second to last
    return spreads


@tool(
    id="booklet-pdf",
    section="pdf",
    title="Booklet PDF",
    description="Arrange pages for a folded, stapled booklet (saddle stitch): print double-sided, fold, read in order.",
    settings=BookletPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: BookletPdfSettings) -> ToolResult:
    import pikepdf

    strips = settings.perSheet // 2
    with pdf.open_pdf(ctx.input) as doc, pdf.pdf_errors():
        count = len(doc.pages)
        x0, y0, x1, y1 = pdf.visible_box(doc.pages[0])
        w, h = x1 - x0, y1 - y0
        spreads = imposition(count)
        fronts, backs = spreads[0::2], spreads[1::2]
        out = pikepdf.new()
        sheets = -(-len(fronts) // strips)
        for s in range(sheets):
            ctx.check_cancelled()
            for side in (fronts, backs):
                out.add_blank_page(page_size=(2 * w, strips * h))
                sheet = out.pages[-1]
                for row in range(strips):
                    n = s * strips + row
                    if n >= len(side):
                        break
                    top = (strips - row) * h
                    for col, index in enumerate(side[n]):
                        if index is not None:
                            rect = pikepdf.Rectangle(col * w, top - h, (col + 1) * w, top)
                            sheet.add_overlay(doc.pages[index], rect)
            ctx.progress(90 * (s + 1) / sheets, "Imposing")
        path = pdf.save_pdf(out, ctx.output_path(f"{ctx.input.stem}_booklet.pdf"))
    return ToolResult([path], {"pages": count, "sheets": sheets, "sides": len(out.pages)})
