"""/mcp: the streamable-HTTP MCP endpoint, authenticated like the REST API, started on first use.

The MCP SDK (and its session manager's task group) is loaded when the first request arrives, so a
server nobody drives over MCP pays nothing for it at start-up or in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from app.auth.principal import Principal
from app.config import get_settings
from app.db import session_scope
from app.deps import resolve_principal
from app.errors import Forbidden, LutraError

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

PATH = "/mcp"
# A JSON-RPC body carries files as base64 (4 characters per 3 bytes) plus some JSON around them.
_BODY_OVERHEAD = 64 * 1024


def authenticate(request: Request) -> Principal:
    """Exactly the REST API's rules (API key or session token, key permissions, rate limit), but from
    the Authorization header only: a browser's session cookie never reaches the MCP tools."""
    settings = get_settings()
    with session_scope() as db:
        principal = resolve_principal(request, db, settings, allow_cookie=False)
    if principal.must_change_password:
        raise Forbidden("Password change required before continuing", code="MUST_CHANGE_PASSWORD")
    return principal


def _mcp_identity(principal: Principal) -> Any:
    """The SDK binds a session to the credential that opened it; ours is the key or session id."""
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from mcp.server.auth.provider import AccessToken

    token = AccessToken(token=principal.credential_id, client_id=principal.credential_id, scopes=[])
    return AuthenticatedUser(token)


class McpEndpoint:
    """ASGI app: 401/403/429 in Lutra's error shape, then the SDK's streamable-HTTP transport."""

    def __init__(self) -> None:
        self._manager: StreamableHTTPSessionManager | None = None
        self._starting = asyncio.Lock()
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            principal = await run_in_threadpool(authenticate, request)
        except LutraError as exc:
            headers = dict(exc.headers or {})
            if exc.status == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="lutra"'
            await JSONResponse(exc.body(), status_code=exc.status, headers=headers)(scope, receive, send)
            return
        scope["user"] = _mcp_identity(principal)
        manager = await self._started()
        await manager.handle_request(scope, receive, send)

    async def _started(self) -> StreamableHTTPSessionManager:
        if self._manager is not None:
            return self._manager
        async with self._starting:
            if self._manager is None:
                from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

                from app.mcp.server import build_server

                settings = get_settings()
                manager = StreamableHTTPSessionManager(
                    app=build_server(),
                    max_request_body_size=settings.max_upload_bytes * 4 // 3 + _BODY_OVERHEAD,
                )
                ready = asyncio.Event()
                self._stop = asyncio.Event()
                task = asyncio.get_running_loop().create_task(self._serve(manager, ready, self._stop))
                waiting = asyncio.ensure_future(ready.wait())
                await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                if task.done():  # the manager could not start: say why instead of waiting forever
                    task.result()
                    raise RuntimeError("the MCP session manager stopped at start-up")
                self._task, self._manager = task, manager
        return self._manager

    @staticmethod
    async def _serve(manager: StreamableHTTPSessionManager, ready: asyncio.Event, stop: asyncio.Event) -> None:
        # The manager's task group must outlive every request, so it runs in a task of its own.
        async with manager.run():
            ready.set()
            await stop.wait()

    async def close(self) -> None:
        if self._task is None or self._stop is None:
            return
        self._stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 10)
        self._task = None
        self._manager = None


def mount_mcp(app: FastAPI) -> McpEndpoint:
    endpoint = McpEndpoint()
    app.state.mcp = endpoint
    app.add_route(PATH, endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False)
    return endpoint


async def close_mcp(app: FastAPI) -> None:
    endpoint = getattr(app.state, "mcp", None)
    if endpoint is not None:
        await endpoint.close()
