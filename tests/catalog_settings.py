"""Settings that pass a tool's own model, derived from its JSON Schema: tests that judge the files a
tool gets (hostile inputs, the format matrix) send these so the settings are never what is refused."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ValidationError

from app.engine.tool import Tool


def _value_for(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _value_for(defs[schema["$ref"].split("/")[-1]], defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _value_for(options[0], defs) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in schema else 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", 10**6) - 1)
        return max(low, min(high, 8))
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        # As many items as the schema asks for (a list of page operations needs at least one).
        return [_value_for(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    if kind == "object" and "properties" in schema:
        return {k: _value_for(schema["properties"][k], defs) for k in schema.get("required", [])}
    return None


@cache
def example_settings(tool: Tool) -> dict[str, Any] | None:
    """The first of a few candidate settings the tool's model accepts, or None."""
    schema = tool.settings.model_json_schema()
    defs = schema.get("$defs", {})
    props = schema.get("properties", {})
    required = {k: _value_for(props[k], defs) for k in schema.get("required", [])}
    candidates = [{}, required, {**required, "width": 8}, {**required, "width": 8, "height": 8}]
    for candidate in candidates:
        try:
            tool.settings.model_validate(candidate)
        except ValidationError:
            continue
        return candidate
    return None
