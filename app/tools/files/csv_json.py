"""CSV to JSON, both ways: CSV rows become an array of objects keyed by the header; an array of
objects (or arrays) becomes a CSV, nested objects as dotted columns."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import data
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class CsvJsonSettings(ToolSettings):
    pretty: bool = Field(True, description="Indent the JSON output (CSV to JSON)")


@tool(
    id="csv-json",
    section="files",
    title="CSV to JSON",
    description="Convert CSV to a JSON array of objects (one per row, keyed by the header row), or a JSON "
    "array back to CSV; the direction follows the input. Values stay text, so IDs like 007 survive.",
    settings=CsvJsonSettings,
    inputs=Inputs(kinds=("csv", "txt", "json")),
    formats=("csv", "json"),
    produces=(
        Produces("json", from_kinds=("csv",), preference=10),
        Produces("csv", from_kinds=("json",), preference=10),
    ),
)
def run(ctx: ToolContext, settings: CsvJsonSettings) -> ToolResult:
    if ctx.input.kind == "json":
        rows = data.records_to_rows(data.read_json(ctx.input.path))
        out = data.write_csv(ctx.output_path(f"{ctx.input.stem}.csv"), rows)
        return ToolResult([out], {"direction": "json-to-csv", "rows": len(rows) - 1, "columns": len(rows[0])})
    records = data.rows_to_records(data.read_csv(ctx.input.path))
    out = data.write_text(ctx.output_path(f"{ctx.input.stem}.json"), data.dump_json(records, settings.pretty))
    return ToolResult([out], {"direction": "csv-to-json", "rows": len(records)})
