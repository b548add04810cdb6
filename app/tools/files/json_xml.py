"""JSON to XML, both ways. XML is read with defusedxml: entity declarations and external references
are refused, so an XXE upload reads no file and fetches no URL."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import data
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool


class JsonXmlSettings(ToolSettings):
    pretty: bool = Field(True, description="Indent the output")


@tool(
    id="json-xml",
    section="files",
    title="JSON to XML",
    description="Convert JSON to XML or XML to JSON; the direction follows the input. Attributes map to "
    '"@name" keys, element text to "#text", repeated elements to arrays.',
    settings=JsonXmlSettings,
    inputs=Inputs(kinds=("json", "xml")),
    formats=("json", "xml"),
    produces=(
        Produces("xml", from_kinds=("json",), preference=10),
        Produces("json", from_kinds=("xml",), preference=10),
    ),
)
def run(ctx: ToolContext, settings: JsonXmlSettings) -> ToolResult:
    if ctx.input.kind == "json":
        root = data.data_to_xml(data.read_json(ctx.input.path))
        out = data.write_text(ctx.output_path(f"{ctx.input.stem}.xml"), data.xml_text(root, settings.pretty))
        return ToolResult([out], {"direction": "json-to-xml", "root": root.tag})
    root = data.parse_xml(ctx.input.path)
    value = {data.local_name(root.tag): data.xml_to_data(root)}
    out = data.write_text(ctx.output_path(f"{ctx.input.stem}.json"), data.dump_json(value, settings.pretty))
    return ToolResult([out], {"direction": "xml-to-json", "root": data.local_name(root.tag)})
