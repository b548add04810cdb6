"""XML to CSV: finds the element that repeats (the records) and writes one row per record, with
attributes and child elements as columns. XML is read with defusedxml (no entities, no network)."""

from __future__ import annotations

from app.engine.media import data
from app.engine.tool import Inputs, NoSettings, Produces, ToolContext, ToolResult, tool


@tool(
    id="xml-to-csv",
    section="files",
    title="XML to CSV",
    description="Convert XML to CSV: the repeating element is found automatically and becomes the rows; "
    "its attributes (@name) and child elements (nested ones as a.b) become the columns.",
    settings=NoSettings,
    inputs=Inputs(kinds=("xml",)),
    formats=("xml",),
    produces=(Produces("csv", preference=20),),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    root = data.parse_xml(ctx.input.path)
    records = data.find_records(root)
    fields = [data.record_fields(r) for r in records]
    columns: dict[str, None] = {}
    for item in fields:
        columns.update(dict.fromkeys(item))
    header = list(columns)
    out = ctx.output_path(f"{ctx.input.stem}.csv")
    data.write_csv(out, [header] + [[item.get(c, "") for c in header] for item in fields])
    return ToolResult([out], {"record": data.local_name(records[0].tag), "rows": len(records), "columns": len(header)})
