"""HTTP plumbing shared by every route: error rendering and response headers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.admission.disk import is_out_of_space, storage_error
from app.config import Settings
from app.errors import LutraError, ServerBusy

log = logging.getLogger("lutra")

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "AUTH_REQUIRED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def validation_details(errors: list[dict[str, Any]]) -> dict[str, str]:
    details: dict[str, str] = {}
    for err in errors:
        # A JSON syntax error's location is a character offset, not a field: report it on the body.
        path = "body" if err.get("type") == "json_invalid" else _field_path(tuple(err.get("loc", ())))
        details.setdefault(path, str(err.get("msg", "invalid")))
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LutraError)
    async def _lutra(_: Request, exc: LutraError) -> JSONResponse:
        return error_response(exc.status, exc.body(), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(list(exc.errors()))
        first = next(iter(details.items()), ("body", "invalid"))
        message = "Invalid JSON body" if first[1].startswith("JSON decode") else f"{first[0]}: {first[1]}"
        return error_response(400, {"error": message, "code": "VALIDATION_ERROR", "details": details})

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the client sent (a NUL byte in PostgreSQL text, a number out
        # of range): the client's fault, so a 400, and the SQL stays in the log.
        log.warning("database rejected a request value: %s", exc.orig)
        return error_response(400, {"error": "Invalid value in request", "code": "BAD_REQUEST"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "ERROR")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return error_response(exc.status_code, {"error": message, "code": code}, getattr(exc, "headers", None))

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(_: Request, exc: PoolTimeout) -> JSONResponse:
        # Every database connection stayed busy for POOL_TIMEOUT_S: a moment of overload, not a bug.
        log.warning("database pool exhausted: %s", exc)
        error = ServerBusy("The server is busy (no free database connection); retry in a few seconds")
        return error_response(error.status, error.body(), {"Retry-After": "5"})

    async def _maybe_out_of_space(_: Request, exc: Exception) -> JSONResponse:
        # A full disk (ENOSPC from a write, SQLite's "database or disk is full", PostgreSQL's
        # "could not extend file") is the server's state, not a bug: 507 with the shared error shape.
        if not is_out_of_space(exc):
            raise exc  # on to the 500 handler below
        log.error("out of disk space: %s", exc)
        error = storage_error()
        return error_response(error.status, error.body(), error.headers)

    app.add_exception_handler(OSError, _maybe_out_of_space)
    app.add_exception_handler(OperationalError, _maybe_out_of_space)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The cause goes to the log, never to the client.
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, {"error": "Internal server error", "code": "INTERNAL_ERROR"})


class StateHeadersMiddleware:
    """Copies headers a dependency left in request.state (rate-limit counters) onto the response.

    Pure ASGI so streamed responses (downloads, SSE, batch ZIPs) get them too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get("rate_limit_headers")
                if extra:
                    present = {k.lower() for k, _ in message.get("headers", [])}
                    headers = list(message.get("headers", []))
                    for key, value in extra.items():
                        if key.lower().encode() not in present:
                            headers.append((key.lower().encode(), value.encode()))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Answer headers a browser script on another origin may read (downloads, batches, rate limits).
EXPOSED_HEADERS = [
    "X-Job-Id",
    "X-File-Results",
    "X-File-Errors",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "Content-Disposition",
]


class _CORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in Lutra's error shape instead of plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        message = bytes(response.body).decode() + " (see CORS_ORIGIN)"
        return error_response(400, {"error": message, "code": "CORS_NOT_ALLOWED"}, headers)


def add_cors(app: FastAPI, settings: Settings) -> None:
    """CORS_ORIGIN: comma-separated origins may call the API from browsers (preflight included).

    `*` allows any origin, and then without credentials (cookies), as browsers require; off when empty."""
    origins = [o.strip().rstrip("/") for o in settings.cors_origin.split(",") if o.strip()]
    if not origins:
        return
    wildcard = "*" in origins
    app.add_middleware(
        _CORSMiddleware,
        allow_origins=["*"] if wildcard else origins,
        allow_credentials=not wildcard,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
