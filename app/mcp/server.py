"""The MCP server: Lutra's catalog as MCP tools, its file library as resources (official SDK, low level).

Everything is decided per request from the caller (`request.state.principal`, set by the endpoint):
the tools listed are the ones this caller may run, as over REST. Imported on the first /mcp request
only, so a server nobody drives over MCP never loads the SDK.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import mcp_types as types
from fastapi.concurrency import run_in_threadpool
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from starlette.requests import Request

from app import __version__
from app.auth.principal import Principal
from app.config import get_settings
from app.db import session_scope
from app.engine import registry
from app.engine.media.sniff import mime_for, sniff_file
from app.engine.tool import SECTIONS, Tool
from app.errors import Forbidden, LutraError, NotFound
from app.files import service as library
from app.jobs.service import JobService
from app.jobs.tool_routes import feature_problem, usable_tool, visible_tools
from app.mcp import catalog
from app.mcp.calls import run_call

log = logging.getLogger("lutra.mcp")

FIND_TOOLS = "find_tools"
INLINE_IMAGE_MAX = 1024 * 1024  # images under 1 MB are also sent inline, so a model can look at them
INLINE_TEXT_MAX = 256 * 1024
RESOURCE_READ_MAX = 20 * 1024 * 1024  # bigger library files are fetched from their download URL
RESOURCE_PAGE = 100
TEXT_SUFFIXES = {".txt", ".srt", ".vtt", ".md", ".csv", ".json", ".xml", ".yaml", ".html", ".svg"}
FILE_URI = "lutra://files/"

INSTRUCTIONS = """Lutra is a media toolbox: every tool takes input files and settings and returns files.
Pass a file as {"base64", "filename"}, as {"fileId"} from the file library, or as {"url"} holding a
downloadUrl an earlier Lutra result returned (so results chain from tool to tool). Use find_tools to
search the catalog by what you want to do."""

_FIND_TOOLS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "What you want to do, e.g. 'compress pdf' or 'transcribe'"},
        "describe": {"type": "string", "description": "A tool name (e.g. image_resize): answer its full input schema"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
    },
    "additionalProperties": False,
}
_schemas: dict[str, types.Tool] = {}  # built once per catalog tool: its JSON Schema is the costly part


def _mcp_tool(tool: Tool) -> types.Tool:
    found = _schemas.get(tool.id)
    if found is None:
        found = _schemas[tool.id] = types.Tool(
            name=catalog.mcp_name(tool),
            title=tool.title,
            description=catalog.describe(tool),
            input_schema=catalog.input_schema(tool),
            # Tools write new files and never touch their inputs or anything outside this server.
            annotations=types.ToolAnnotations(destructive_hint=False, open_world_hint=False),
        )
    return found


def _find_tools_tool() -> types.Tool:
    return types.Tool(
        name=FIND_TOOLS,
        title="Find tools",
        description="Search Lutra's tool catalog by task or format; `describe` gives one tool's full input schema.",
        input_schema=_FIND_TOOLS_SCHEMA,
        annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
    )


# -- the caller --------------------------------------------------------------------------------------


def _request(ctx: ServerRequestContext[Any, Any]) -> Request:
    if not isinstance(ctx.request, Request):
        raise MCPError(code=types.INTERNAL_ERROR, message="No HTTP request behind this MCP message")
    return ctx.request


def _principal(ctx: ServerRequestContext[Any, Any]) -> Principal:
    principal = getattr(_request(ctx).state, "principal", None)
    if not isinstance(principal, Principal):
        raise MCPError(code=types.INVALID_REQUEST, message="Authentication required")
    return principal


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _sections(request: Request) -> set[str]:
    """`/mcp?sections=image,pdf`: list only those sections (clients that can't take ~250 tools)."""
    raw = request.query_params.get("sections")
    if not raw:
        return set(SECTIONS)
    return {s.strip() for s in raw.split(",") if s.strip() in SECTIONS}


async def _runnable(principal: Principal) -> list[Tool]:
    """The tools this caller may run here: tools:use, not disabled, and (AI tools) installed."""
    if not principal.has("tools:use"):
        return []
    tools = await visible_tools()
    return [t for t in tools if t.feature is None or feature_problem(t) is None]


# -- tools -------------------------------------------------------------------------------------------


async def list_tools(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    principal = _principal(ctx)
    tools = await _runnable(principal)
    if not tools:
        return types.ListToolsResult(tools=[])
    sections = _sections(_request(ctx))
    listed = await run_in_threadpool(lambda: [_mcp_tool(t) for t in tools if t.section in sections])
    return types.ListToolsResult(tools=[_find_tools_tool(), *listed])


def _error(exc: LutraError) -> types.CallToolResult:
    body = exc.body()
    return types.CallToolResult(
        content=[types.TextContent(text=f"{exc.message} ({exc.code})")], structured_content=body, is_error=True
    )


async def _find_tools(principal: Principal, arguments: dict[str, Any]) -> types.CallToolResult:
    tools = await _runnable(principal)
    wanted = arguments.get("describe")
    if isinstance(wanted, str) and wanted:
        match = next((t for t in tools if catalog.mcp_name(t) == wanted), None)
        if match is None:
            raise NotFound(f"No tool named {wanted[:80]!r}; search with query first", code="TOOL_NOT_FOUND")
        mcp_tool = await run_in_threadpool(_mcp_tool, match)
        answer: dict[str, Any] = {**catalog.summary(match), "inputSchema": mcp_tool.input_schema}
    else:
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            raise LutraError("Give a query (what you want to do) or describe (a tool name)", code="BAD_ARGUMENT")
        limit = arguments.get("limit", 10)
        limit = limit if isinstance(limit, int) and 1 <= limit <= 50 else 10
        answer = {"tools": [catalog.summary(t) for t in catalog.search(tools, query, limit)]}
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(answer, indent=1))], structured_content=answer
    )


def _is_text(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES


def _content(outputs: list[Path], body: dict[str, Any]) -> list[types.ContentBlock]:
    """A link to every output (the answer's own downloadUrls, so they carry whatever the REST answer
    carries), images under 1 MB inline, text outputs as text, and the answer itself as JSON."""
    blocks: list[types.ContentBlock] = []
    urls = [d["downloadUrl"] for d in body.get("downloads") or []] or [body.get("downloadUrl")]
    for path, url in zip(outputs, urls, strict=False):
        size = path.stat().st_size
        kind = sniff_file(path) or ""
        mime = mime_for(kind) if kind else "application/octet-stream"
        if url:
            blocks.append(types.ResourceLink(uri=url, name=path.name, mime_type=mime, size=size))
        if mime.startswith("image/") and mime != "image/svg+xml" and size < INLINE_IMAGE_MAX:
            blocks.append(types.ImageContent(data=base64.b64encode(path.read_bytes()).decode(), mime_type=mime))
        elif _is_text(path) and size <= INLINE_TEXT_MAX:
            blocks.append(types.TextContent(text=path.read_text("utf-8", errors="replace")))
    blocks.append(types.TextContent(text=json.dumps(body, ensure_ascii=False)))
    return blocks


def _absolute(body: dict[str, Any], origin: str) -> dict[str, Any]:
    """The REST answer with its download addresses made absolute (a client may sit anywhere)."""

    def full(url: Any) -> Any:
        return origin + url if isinstance(url, str) and url.startswith("/") else url

    body = dict(body)
    if body.get("downloadUrl"):
        body["downloadUrl"] = full(body["downloadUrl"])
    if isinstance(body.get("downloads"), list):
        body["downloads"] = [{**d, "downloadUrl": full(d.get("downloadUrl"))} for d in body["downloads"]]
    return body


async def call_tool(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> types.CallToolResult:
    principal = _principal(ctx)
    request = _request(ctx)
    arguments = dict(params.arguments or {})
    try:
        if not principal.has("tools:use"):
            raise Forbidden("Missing permission: tools:use")
        if params.name == FIND_TOOLS:
            return await _find_tools(principal, arguments)
        parts = catalog.split_name(params.name)
        if parts is None:
            raise NotFound(f"Tool {params.name[:80]!r} not found", code="TOOL_NOT_FOUND")
        tool = await usable_tool(*parts)
        service: JobService = request.app.state.jobs

        async def progress(percent: float, message: str | None) -> None:
            await ctx.session.report_progress(percent, 100.0, message)

        origin = _origin(request)
        result = await run_call(service, principal, tool, arguments, origin, progress)
    except LutraError as exc:
        return _error(exc)
    body = _absolute(result.body, origin)
    content = await run_in_threadpool(_content, result.outputs, body)
    return types.CallToolResult(content=content, structured_content=body)


# -- resources: the file library -----------------------------------------------------------------------


def _can_read_files(principal: Principal) -> bool:
    return principal.has("files:own") or principal.has("files:all")


def _resource_page(principal: Principal, offset: int) -> tuple[list[types.Resource], int]:
    with session_scope() as db:
        rows, total = library.list_latest(db, principal, None, RESOURCE_PAGE, offset)
        resources = [
            types.Resource(
                uri=FILE_URI + row.id,
                name=row.original_name,
                mime_type=row.mime_type,
                size=row.size,
                description=f"Library file, version {row.version}",
            )
            for row in rows
        ]
    return resources, total


async def list_resources(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListResourcesResult:
    principal = _principal(ctx)
    if not _can_read_files(principal):
        return types.ListResourcesResult(resources=[])
    cursor = params.cursor if params is not None else None
    offset = int(cursor) if cursor and cursor.isdigit() else 0
    resources, total = await run_in_threadpool(_resource_page, principal, offset)
    following = offset + len(resources)
    return types.ListResourcesResult(resources=resources, next_cursor=str(following) if following < total else None)


def _read_file(principal: Principal, file_id: str, uri: str) -> types.ReadResourceResult:
    with session_scope() as db:
        row = library.get_visible(db, principal, file_id)
        path, mime, size = library.path_of(get_settings(), row), row.mime_type, row.size
    if size > RESOURCE_READ_MAX:
        raise LutraError(
            f"File too large to read over MCP ({size} bytes); download /api/v1/files/{file_id}/download",
            status=413,
            code="FILE_TOO_LARGE",
        )
    data = path.read_bytes()
    if mime.startswith("text/") or mime in ("application/json", "application/xml"):
        text = types.TextResourceContents(uri=uri, mime_type=mime, text=data.decode("utf-8", errors="replace"))
        return types.ReadResourceResult(contents=[text])
    blob = types.BlobResourceContents(uri=uri, mime_type=mime, blob=base64.b64encode(data).decode())
    return types.ReadResourceResult(contents=[blob])


async def read_resource(
    ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
) -> types.ReadResourceResult:
    principal = _principal(ctx)
    uri = str(params.uri)
    if not uri.startswith(FILE_URI) or not _can_read_files(principal):
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown resource {uri[:120]}")
    try:
        return await run_in_threadpool(_read_file, principal, uri[len(FILE_URI) :], uri)
    except LutraError as exc:
        raise MCPError(code=types.INVALID_PARAMS, message=exc.message) from exc


def lutra_server(**handlers: Any) -> Server[Any]:
    """Lutra's MCP identity with the given on_* handlers (here, or the stdio bridge's)."""
    return Server("lutra", version=__version__, title="Lutra", instructions=INSTRUCTIONS, **handlers)


def build_server() -> Server[Any]:
    registry.load_all()
    return lutra_server(
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )
