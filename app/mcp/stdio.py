"""`lutra mcp --stdio`: for desktop assistants that launch MCP servers as local processes.

A bridge built from the SDK's own pieces: an MCP server on stdin/stdout whose every request is passed
to a Lutra server's /mcp by the SDK's client, with the caller's API key. Tools, progress, cancellation
and resources are the server's, so they behave exactly as over HTTP.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.stdio import stdio_server

from app.console.common import UNAVAILABLE, CommandError
from app.mcp.server import lutra_server


def endpoint_url(server: str) -> str:
    server = server.rstrip("/")
    return server if server.endswith("/mcp") else server + "/mcp"


def bridge(remote: Client) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return await remote.list_tools(cursor=params.cursor if params else None, cache_mode="bypass")

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        async def forward(progress: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(progress, total, message)

        # A cancelled request cancels this await, and the SDK's client cancels the remote call in turn.
        return await remote.call_tool(params.name, params.arguments or {}, progress_callback=forward)

    async def list_resources(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return await remote.list_resources(cursor=params.cursor if params else None, cache_mode="bypass")

    async def read_resource(
        ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        return await remote.read_resource(str(params.uri), cache_mode="bypass")

    return lutra_server(
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside the task groups' exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def serve_stdio(server: str, key: str | None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    url = endpoint_url(server)
    print(f"lutra mcp: bridging stdio to {url}", file=sys.stderr)
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=None))
        )
        try:
            remote = await stack.enter_async_context(Client(streamable_http_client(url, http_client=http)))
        except Exception as exc:  # unreachable, refused credentials, not a Lutra: one line, exit 3
            raise CommandError(f"cannot reach {url}: {_leaf(exc)}", UNAVAILABLE) from exc
        local = bridge(remote)
        async with stdio_server() as (read, write):
            await local.run(read, write, local.create_initialization_options())
