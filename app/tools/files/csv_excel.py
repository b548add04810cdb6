"""CSV to Excel, both ways: a CSV becomes an .xlsx workbook; an .xlsx becomes the CSV of one sheet."""

from __future__ import annotations

import re
import zipfile
from typing import Any

from pydantic import Field

from app.engine.media import data, office
from app.engine.tool import InputRejected, Inputs, Produces, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

# Plain numbers become numeric cells; anything else (leading zeros, "1e5", "+1") stays text, so
# postcodes and IDs survive.
_INT = re.compile(r"-?(0|[1-9]\d{0,14})")
_FLOAT = re.compile(r"-?(0|[1-9]\d{0,14})\.\d{1,15}")


class CsvExcelSettings(ToolSettings):
    sheet: int = Field(1, ge=1, le=1000, description="Worksheet number to export, for XLSX input (1 = first)")


def _cell(value: str) -> Any:
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    return value


def _to_xlsx(ctx: ToolContext) -> ToolResult:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    rows = data.read_csv(ctx.input.path)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    for n, row in enumerate(rows):
        if n % 5000 == 0:
            ctx.check_cancelled()
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_cell(value))
            if isinstance(cell.value, str):
                # Text that starts with "=" is data, never a formula (CSV injection).
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    out = ctx.output_path(f"{ctx.input.stem}.xlsx")
    book.save(out)
    return ToolResult([out], {"direction": "csv-to-xlsx", "rows": len(rows), "columns": max(map(len, rows))})


def _to_csv(ctx: ToolContext, settings: CsvExcelSettings) -> ToolResult:
    from openpyxl import load_workbook

    office.check_container(ctx.input.path)
    try:
        book = load_workbook(ctx.input.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputRejected("The workbook is damaged and could not be read", 400) from exc
    try:
        names = book.sheetnames
        if settings.sheet > len(names):
            raise InputRejected(f"The workbook has {len(names)} sheet(s); sheet {settings.sheet} does not exist", 400)
        sheet = book[names[settings.sheet - 1]]
        out = ctx.output_path(f"{ctx.input.stem}.csv")
        count = 0

        def rows() -> Any:
            nonlocal count
            for row in sheet.iter_rows(values_only=True):
                count += 1
                if count % 5000 == 0:
                    ctx.check_cancelled()
                yield [_text(v) for v in row]

        try:
            data.write_csv(out, _trim(rows()))
        except (ValueError, KeyError, TypeError) as exc:
            raise ToolFailure("the sheet could not be read") from exc
    finally:
        book.close()
    name = names[settings.sheet - 1]
    info = {"direction": "xlsx-to-csv", "sheet": settings.sheet, "sheetName": name, "sheets": len(names), "rows": count}
    return ToolResult([out], info)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _trim(rows: Any) -> Any:
    """Drops trailing empty cells of each row and trailing empty rows (formatting, not data)."""
    pending = 0
    for row in rows:
        while row and row[-1] == "":
            row.pop()
        if not row:
            pending += 1
            continue
        for _ in range(pending):
            yield []
        pending = 0
        yield row


@tool(
    id="csv-excel",
    section="files",
    title="CSV to Excel",
    description="Convert a CSV file to an Excel workbook (.xlsx), or one sheet of an .xlsx workbook to CSV; "
    "the direction follows the input.",
    settings=CsvExcelSettings,
    inputs=Inputs(kinds=("csv", "txt", "xlsx")),
    formats=("csv", "xlsx"),
    produces=(
        Produces("xlsx", from_kinds=("csv",), preference=20),
        Produces("csv", from_kinds=("xlsx",), preference=20),
    ),
)
def run(ctx: ToolContext, settings: CsvExcelSettings) -> ToolResult:
    if ctx.input.kind == "xlsx":
        return _to_csv(ctx, settings)
    return _to_xlsx(ctx)
