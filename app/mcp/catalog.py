"""The catalog as MCP sees it: tool names, input schemas and a search, all derived from the registry.

Pure functions over `Tool` specs: nothing here imports the MCP SDK, so the command line and tests can
use them without loading it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from app.engine.tool import Tool

# One way to name an input file; exactly one of the three keys.
FILE_REF_SCHEMA: dict[str, Any] = {
    "description": (
        "An input file: its bytes as base64 with a filename, a library file's id, "
        "or a downloadUrl an earlier Lutra tool call returned"
    ),
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "base64": {"type": "string", "description": "The file's bytes, base64-encoded"},
                "filename": {"type": "string", "description": "Its name, e.g. photo.jpg"},
            },
            "required": ["base64"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"fileId": {"type": "string", "description": "A file library id"}},
            "required": ["fileId"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "url": {
                    "type": "string",
                    "description": "A downloadUrl from an earlier Lutra result (never an outside address)",
                }
            },
            "required": ["url"],
            "additionalProperties": False,
        },
    ],
}


def mcp_name(tool: Tool) -> str:
    """`<section>_<toolId>`: image_resize, pdf_merge-pdf (tool ids are kebab-case, so `_` splits)."""
    return f"{tool.section}_{tool.id}"


def split_name(name: str) -> tuple[str, str] | None:
    section, sep, tool_id = name.partition("_")
    return (section, tool_id) if sep and section and tool_id else None


def input_schema(tool: Tool) -> dict[str, Any]:
    """`{"file" | "files", <extra parts>, "settings"}` with the settings model's own JSON Schema."""
    settings = copy.deepcopy(tool.settings.model_json_schema())
    # Pydantic's "$ref": "#/$defs/..." point at the document root: lift the definitions up there.
    defs = settings.pop("$defs", None)
    settings.pop("title", None)
    settings["description"] = "The tool's settings (all optional unless marked required)"
    props: dict[str, Any] = {}
    required: list[str] = []
    rules = tool.inputs
    if rules.max_files == 1:
        props["file"] = FILE_REF_SCHEMA
        if rules.min_files:
            required.append("file")
    elif rules.max_files > 1:
        props["files"] = {
            "type": "array",
            "items": FILE_REF_SCHEMA,
            "minItems": max(rules.min_files, 1),
            "maxItems": rules.max_files,
            "description": f"{rules.min_files}-{rules.max_files} input files, in order",
        }
        if rules.min_files:
            required.append("files")
    for part in rules.extra:
        props[part.name] = {**FILE_REF_SCHEMA, "description": part.description or f"The {part.name} file"}
        if part.required:
            required.append(part.name)
    props["settings"] = settings
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    if defs:
        schema["$defs"] = defs
    return schema


def describe(tool: Tool) -> str:
    rules = tool.inputs
    if not rules.takes_files:
        takes = "Takes settings only (no file)."
    else:
        kinds = ", ".join(rules.kinds) or "any file"
        count = "one file" if rules.max_files == 1 else f"{rules.min_files}-{rules.max_files} files"
        takes = f"Takes {count} ({kinds})."
    long = " Long-running: reports progress." if tool.long else ""
    return f"{tool.title}: {tool.description}\n\n{takes}{long}"


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def search(tools: list[Tool], query: str, limit: int = 10) -> list[Tool]:
    """Tools ranked by how many of the query's words their id, title, formats and description hold."""
    wanted = _words(query)
    if not wanted:
        return []
    scored = []
    for tool in tools:
        strong = _words(f"{tool.id} {tool.title} {tool.section} {' '.join(tool.formats)}")
        weak = _words(tool.description)
        score = sum(3 if w in strong else 1 if w in weak else 0 for w in wanted)
        # Prefix matches ("transcri" -> transcribe) count too, weakly.
        score += sum(1 for w in wanted if w not in strong and any(s.startswith(w) for s in strong))
        if score:
            scored.append((-score, mcp_name(tool), tool))
    return [t for *_, t in sorted(scored, key=lambda s: (s[0], s[1]))[:limit]]


def summary(tool: Tool) -> dict[str, Any]:
    return {"name": mcp_name(tool), "title": tool.title, "description": tool.description, "long": tool.long}
