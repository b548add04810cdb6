"""N-up PDF: several pages on each sheet, in reading order, each scaled to fit its cell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from app.engine.media import pdf
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

if TYPE_CHECKING:
    import pikepdf

# Columns, rows and whether the sheet is turned to landscape, for each count. Two, three, eight and
# twelve pages sit side by side on a turned sheet so that portrait pages keep a sensible size.
LAYOUTS: dict[int, tuple[int, int, bool]] = {
    2: (2, 1, True),
    3: (3, 1, True),
    4: (2, 2, False),
    8: (4, 2, True),
    9: (3, 3, False),
    12: (4, 3, True),
    16: (4, 4, False),
}


class NupPdfSettings(ToolSettings):
    perSheet: Literal[2, 3, 4, 8, 9, 12, 16] = Field(2, description="Pages on each sheet")


def sheet_size(first: pikepdf.Page, landscape: bool) -> tuple[float, float]:
    x0, y0, x1, y1 = pdf.visible_box(first)
    w, h = x1 - x0, y1 - y0
    return (max(w, h), min(w, h)) if landscape else (min(w, h), max(w, h))


@tool(
    id="nup-pdf",
    section="pdf",
    title="N-up PDF",
    description="Print several pages per sheet (2, 3, 4, 8, 9, 12 or 16), in reading order.",
    settings=NupPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: NupPdfSettings) -> ToolResult:
    import pikepdf

    cols, rows, landscape = LAYOUTS[settings.perSheet]
    with pdf.open_pdf(ctx.input) as doc, pdf.pdf_errors():
        count = len(doc.pages)
        width, height = sheet_size(doc.pages[0], landscape)
        cell_w, cell_h = width / cols, height / rows
        out = pikepdf.new()
        sheets = -(-count // settings.perSheet)
        for s in range(sheets):
            ctx.check_cancelled()
            out.add_blank_page(page_size=(width, height))
            sheet = out.pages[-1]
            for slot in range(settings.perSheet):
                index = s * settings.perSheet + slot
                if index >= count:
                    break
                col, row = slot % cols, slot // cols
                x0, y1 = col * cell_w, height - row * cell_h
                # The page becomes a form XObject scaled (aspect kept) and centred in its cell.
                sheet.add_overlay(doc.pages[index], pikepdf.Rectangle(x0, y1 - cell_h, x0 + cell_w, y1))
            ctx.progress(90 * (s + 1) / sheets, "Placing pages")
        path = pdf.save_pdf(out, ctx.output_path(f"{ctx.input.stem}_{settings.perSheet}up.pdf"))
    return ToolResult([path], {"pages": count, "sheets": sheets})
