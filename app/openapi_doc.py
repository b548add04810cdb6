"""The OpenAPI document as the truth: every reference resolves, every error a route can answer is listed.

FastAPI's generated document is post-processed once:
- pydantic's local `$defs` (a tool's nested settings models, embedded in request bodies) are inlined:
  inside the OpenAPI document `#/$defs/Gps` would point at its root, where nothing is;
- every operation lists the error answers Lutra's shared handlers can give, with the `Error` schema,
  and FastAPI's default 422 (its validation shape, which Lutra answers as 400) becomes `Error` too.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "code"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, for people"},
        "code": {"type": "string", "description": "What went wrong, for programs (e.g. VALIDATION_ERROR)"},
        "details": {"description": "Per-field reasons (validation errors) or other specifics"},
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}

# Answers any route may give: bad input, credentials, throttles, overload.
COMMON = {
    "400": "Invalid request (VALIDATION_ERROR and others)",
    "401": "Not signed in (AUTH_REQUIRED)",
    "403": "Not allowed (FORBIDDEN, MUST_CHANGE_PASSWORD)",
    "404": "Not found",
    "405": "Method not allowed",
    "429": "Too many requests (RATE_LIMITED, TOO_MANY_REQUESTS, LOGIN_THROTTLED); see Retry-After",
    "503": "Busy (SERVER_BUSY) or the database is unreachable; see Retry-After",
}
# And those that write or take a body.
WRITING = {
    "409": "Conflict with the current state",
    "413": "Too large (PAYLOAD_TOO_LARGE, STORAGE_QUOTA_EXCEEDED)",
    "415": "Unsupported media type",
    "422": "Processing failed (PROCESSING_FAILED and tool-specific codes)",
    "501": "AI feature not installed (FEATURE_NOT_INSTALLED)",
    "507": "Not enough free disk space (INSUFFICIENT_STORAGE); see Retry-After",
}
RANGE = {"416": "Requested range not satisfiable", "409": "The job has not completed (JOB_NOT_COMPLETED)"}


def inline_local_refs(node: Any, defs: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """Returns `node` with every `#/$defs/X` replaced by its definition and the `$defs` removed."""
    if isinstance(node, list):
        return [inline_local_refs(item, defs, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$defs" in node:
        defs = {**(defs or {}), **node["$defs"]}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and defs is not None:
        name = ref.removeprefix("#/$defs/")
        if name in defs and depth < 16:  # a self-referencing model stops being expanded here
            target = copy.deepcopy(defs[name])
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return inline_local_refs(merged, defs, depth + 1)
        return {k: v for k, v in node.items() if k != "$ref"}  # unresolvable: any value, not a dead link
    return {k: inline_local_refs(v, defs, depth) for k, v in node.items() if k != "$defs"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _shared_name(status: str, description: str) -> str:
    return f"Error{status}" if description in (COMMON.get(status), WRITING.get(status)) else f"Error{status}Range"


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Adds the Error schema and each operation's possible error answers (in place; returns spec)."""
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    shared = components.setdefault("responses", {})
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            responses = op.setdefault("responses", {})
            wanted = dict(COMMON)
            if method != "get":
                wanted.update(WRITING)
            if "download" in path or "thumbnail" in path:
                wanted.update(RANGE)
            existing_422 = responses.get("422", {})
            if "HTTPValidationError" in str(existing_422):
                del responses["422"]  # FastAPI's own shape: Lutra answers validation errors as 400 Error
            for status, description in wanted.items():
                # One shared description per answer, referenced: the document stays readable.
                name = _shared_name(status, description)
                shared.setdefault(name, _error_response(description))
                responses.setdefault(status, {"$ref": f"#/components/responses/{name}"})
    for name in ("HTTPValidationError", "ValidationError"):
        if name in schemas and name not in str(spec.get("paths", {})):
            del schemas[name]
    return spec


def _routes_for_document(app: FastAPI, routers_in_order: Sequence[APIRouter]) -> list[BaseRoute]:
    """The included routers in the document's order (the app matches the commonest routes first), then
    each tool's own documented routes in place of the shared serving routes, then the rest."""
    from app.jobs.tool_routes import SERVING_PATHS, documented_routes

    rank = {id(router): i for i, router in enumerate(routers_in_order)}
    routes = [r for r in app.routes if getattr(r, "path", None) not in SERVING_PATHS]

    def included(route: BaseRoute) -> bool:
        return id(getattr(route, "original_router", None)) in rank

    routers = sorted(filter(included, routes), key=lambda r: rank[id(r.original_router)])  # type: ignore[attr-defined]
    return [*routers, *documented_routes(), *(r for r in routes if not included(r))]


def install(app: FastAPI, routers_in_order: Sequence[APIRouter] = ()) -> None:
    """Makes app.openapi() return the corrected document (built once, on first request, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=_routes_for_document(app, routers_in_order),
                tags=app.openapi_tags,
                servers=app.servers,
                separate_input_output_schemas=app.separate_input_output_schemas,
            )
            app.openapi_schema = document_errors(inline_local_refs(spec))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
