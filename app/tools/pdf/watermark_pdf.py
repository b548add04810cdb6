"""Watermark PDF: a text stamp on every page, with position, size, opacity and rotation."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.engine.media import pdf
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

Position = Literal[
    "top-left",
    "top-center",
    "top-right",
    "center-left",
    "center",
    "center-right",
    "bottom-left",
    "bottom-center",
    "bottom-right",
    "tiled",
]


class WatermarkPdfSettings(ToolSettings):
    text: str = Field("CONFIDENTIAL", min_length=1, max_length=200, description="Watermark text")
    position: Position = Field(
        "center", description="Where the stamp sits on the page; tiled repeats it across the page"
    )
    fontSize: int = Field(48, ge=6, le=400, description="Font size in points")
    opacity: float = Field(0.3, ge=0.05, le=1, description="0.05 (faint) to 1 (solid)")
    rotation: float = Field(
        -45, ge=-360, le=360, description="Rotation in degrees, clockwise (-45 rises from bottom left to top right)"
    )
    color: str = Field("#808080", pattern=r"^#[0-9a-fA-F]{6}$", description="Text colour, #RRGGBB")


def _steps(length: float, step: float) -> list[float]:
    """Centres of a tiling along one side, overhanging both ends so rotated text covers the corners."""
    step = max(step, 10.0)
    count = int(length // step) + 3
    return [(i - 1) * step for i in range(count)]


@tool(
    id="watermark-pdf",
    section="pdf",
    title="Watermark PDF",
    description="Stamp a text watermark on every page: position, font size, opacity, rotation and colour.",
    settings=WatermarkPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: WatermarkPdfSettings) -> ToolResult:
    from reportlab.lib.colors import HexColor
    from reportlab.pdfbase.pdfmetrics import stringWidth

    s = settings
    text_w: float | None = None  # measured on first use, once stamp_pages has registered the font

    def draw(canvas: Any, index: int, width: float, height: float) -> None:
        nonlocal text_w
        if text_w is None:
            text_w = stringWidth(s.text, "DejaVuSans-Bold", s.fontSize)
        margin = s.fontSize
        if s.position == "tiled":
            step_x, step_y = text_w + 2 * margin, 4 * s.fontSize
            spots = [
                (x0 + (step_x / 2 if row % 2 else 0), y0)
                for row, y0 in enumerate(_steps(height, step_y))
                for x0 in _steps(width, step_x)
            ]
        else:
            vertical, _, horizontal = s.position.partition("-") if s.position != "center" else ("center", "", "center")
            x = {"left": margin + text_w / 2, "center": width / 2, "right": width - margin - text_w / 2}[horizontal]
            y = {"top": height - margin, "center": height / 2, "bottom": margin}[vertical]
            spots = [(x, y)]
        canvas.setFillColor(HexColor(s.color))
        canvas.setFillAlpha(s.opacity)
        canvas.setFont("DejaVuSans-Bold", s.fontSize)
        for x, y in spots:
            canvas.saveState()
            canvas.translate(x, y)
            canvas.rotate(-s.rotation)  # reportlab turns counter-clockwise
            canvas.drawCentredString(0, -s.fontSize * 0.35, s.text)
            canvas.restoreState()

    with pdf.open_pdf(ctx.input) as doc:
        pdf.stamp_pages(doc, range(len(doc.pages)), draw)
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_watermarked.pdf"))
        pages = len(doc.pages)
    return ToolResult([path], {"pages": pages})
