"""`lutra tools [SECTION]` and `lutra tools show <toolId>`: the catalog, read from a tool's JSON Schema
(the local registry's, or a remote server's /api/v1/tools), so both print the same thing."""

from __future__ import annotations

import json
from typing import Any

from app.console.common import DONE, CommandError


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**defs.get(ref.rsplit("/", 1)[1], {}), **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def _variants(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    options = prop.get("anyOf") or prop.get("oneOf")
    if not options:
        return [_resolve(prop, defs)], False
    resolved = [_resolve(o, defs) for o in options]
    nullable = any(o.get("type") == "null" for o in resolved)
    return [o for o in resolved if o.get("type") != "null"], nullable


def text_fields(schema: dict[str, Any]) -> set[str]:
    """Settings that only take a string: `--set text=123` must stay the text "123", not a number."""
    defs = schema.get("$defs", {})
    found = set()
    for name, prop in schema.get("properties", {}).items():
        options, _ = _variants(prop, defs)
        if options and all(o.get("type") == "string" for o in options):
            found.add(name)
    return found


def _type_of(option: dict[str, Any]) -> str:
    if "enum" in option:
        return "one of: " + ", ".join(json.dumps(v) for v in option["enum"])
    if "const" in option:
        return json.dumps(option["const"])
    kind = option.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(option.get('items', {}))}"
    return str(kind)


def _range_of(option: dict[str, Any]) -> str:
    low = option.get("minimum", option.get("exclusiveMinimum"))
    high = option.get("maximum", option.get("exclusiveMaximum"))
    if low is not None or high is not None:
        left = "(" if "exclusiveMinimum" in option else "["
        right = ")" if "exclusiveMaximum" in option else "]"
        return f"{left}{'' if low is None else low}..{'' if high is None else high}{right}"
    if "minLength" in option or "maxLength" in option:
        return f"{option.get('minLength', 0)}..{option.get('maxLength', '')} chars"
    if "minItems" in option or "maxItems" in option:
        return f"{option.get('minItems', 0)}..{option.get('maxItems', '')} items"
    return ""


def describe_settings(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Each setting as {name, type, range, default, required, description}."""
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    rows = []
    for name, raw in schema.get("properties", {}).items():
        options, nullable = _variants(raw, defs)
        rows.append(
            {
                "name": name,
                "type": " | ".join(_type_of(o) for o in options) + (" | null" if nullable else ""),
                "range": " | ".join(r for r in (_range_of(o) for o in options) if r),
                "default": raw.get("default", options[0].get("default") if options else None),
                "required": name in required,
                "description": raw.get("description") or (options[0].get("description", "") if options else ""),
            }
        )
    return rows


def print_list(tools: list[dict[str, Any]], section: str | None, as_json: bool) -> int:
    shown = [t for t in tools if section is None or t["section"] == section]
    if section is not None and not shown:
        raise CommandError(f"no tools in section {section!r}; sections: image, video, audio, pdf, files")
    if as_json:
        print(json.dumps({"tools": shown}, indent=2))
        return DONE
    width = max(len(t["id"]) for t in shown)
    for t in sorted(shown, key=lambda t: (t["section"], t["id"])):
        long = " (long)" if t.get("long") else ""
        print(f"{t['section']:<6} {t['id']:<{width}}  {t['title']}{long}")
    return DONE


def print_show(tool: dict[str, Any], as_json: bool) -> int:
    settings = describe_settings(tool.get("settingsSchema", {}))
    if as_json:
        print(json.dumps({**tool, "settings": settings}, indent=2))
        return DONE
    inputs = tool.get("inputs", {})
    print(f"{tool['id']} ({tool['section']}): {tool['title']}")
    print(f"  {tool['description']}")
    if inputs.get("maxFiles"):
        count = "1 file" if inputs["maxFiles"] == 1 else f"{inputs['minFiles']}-{inputs['maxFiles']} files"
        print(f"  Input: {count} ({', '.join(inputs.get('kinds', [])) or 'any'})")
    else:
        print("  Input: none (settings only)")
    for part in inputs.get("extra", []):
        print(f"  Extra input {part['name']!r}: {part.get('description') or ', '.join(part['kinds'])}")
    if not settings:
        print("  Settings: none")
        return DONE
    print("  Settings:")
    for row in settings:
        facts = [row["type"]]
        if row["range"]:
            facts.append(f"range {row['range']}")
        facts.append("required" if row["required"] else f"default {json.dumps(row['default'])}")
        print(f"    {row['name']}: {'; '.join(facts)}")
        if row["description"]:
            print(f"        {row['description']}")
    return DONE
