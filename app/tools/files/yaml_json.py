"""YAML / JSON, both ways. YAML is read with yaml.safe_load (plain data, never Python objects) and
alias expansion is bounded."""

from __future__ import annotations

from app.engine.media import data
from app.engine.tool import Inputs, NoSettings, Produces, ToolContext, ToolResult, tool


@tool(
    id="yaml-json",
    section="files",
    title="YAML / JSON",
    description="Convert YAML to JSON or JSON to YAML; the direction follows the input. A YAML file with "
    "several documents becomes a JSON array.",
    settings=NoSettings,
    inputs=Inputs(kinds=("yaml", "json", "txt")),
    formats=("yaml", "yml", "json"),
    produces=(
        Produces("json", from_kinds=("yaml",), preference=10),
        Produces("yaml", from_kinds=("json",), preference=10),
    ),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    if ctx.input.kind == "json":
        out = ctx.output_path(f"{ctx.input.stem}.yaml")
        data.write_text(out, data.dump_yaml(data.read_json(ctx.input.path)))
        return ToolResult([out], {"direction": "json-to-yaml"})
    out = ctx.output_path(f"{ctx.input.stem}.json")
    data.write_text(out, data.dump_json(data.read_yaml(ctx.input.path), pretty=True))
    return ToolResult([out], {"direction": "yaml-to-json"})
