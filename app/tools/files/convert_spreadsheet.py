"""Convert Spreadsheet: Excel (.xlsx), OpenDocument (.ods) and CSV into one another, with LibreOffice.
CSV output holds the first sheet (use csv-excel to pick another)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import office
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool

KINDS = ("xlsx", "xls", "ods", "csv", "txt")


class ConvertSpreadsheetSettings(ToolSettings):
    format: Literal["xlsx", "ods", "csv"] = Field("xlsx", description="Output format (CSV holds the first sheet)")


@tool(
    id="convert-spreadsheet",
    section="files",
    title="Convert Spreadsheet",
    description="Convert a spreadsheet between Excel (.xlsx), OpenDocument (.ods) and CSV with LibreOffice "
    "(headless, macros off). CSV output holds the first sheet.",
    settings=ConvertSpreadsheetSettings,
    inputs=Inputs(kinds=KINDS),
    formats=("xlsx", "ods", "csv"),
    long=True,
    produces=tuple(Produces(fmt, {"format": fmt}, preference=10) for fmt in ("xlsx", "ods", "csv")),
)
def run(ctx: ToolContext, settings: ConvertSpreadsheetSettings) -> ToolResult:
    ctx.progress(5, "Converting with LibreOffice")
    out = office.soffice_convert(ctx, ctx.input, settings.format, what="Spreadsheet conversion")
    return ToolResult([out], {"format": settings.format, "from": ctx.input.kind})
