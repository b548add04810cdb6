"""Refusing at the door: an upload that admission would refuse gets its 429/503/507 before the app is
entered at all.

Admission itself stays where each route declares it (app.admission.deps): that check is the one that
counts, and it holds the slot. This middleware only answers early what that check would answer for a
caller it can name at once (its credential in the in-memory cache, or one lookup shared by the burst,
which the app's own check then finds cached): under a burst of a thousand uploads, each
refusal then costs a few dozen microseconds instead of the whole stack (middlewares, routing,
dependencies, exception handlers), and the event loop stays free for everyone else, /api/v1/health
first. Anything else (no valid credential, AUTH_ENABLED=false, a path it does not recognise, an unknown
tool) goes through to the app as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.admission.disk import below_floor, storage_error
from app.admission.slots import UploadSlots
from app.auth.principal import Principal
from app.config import get_settings
from app.deps import credential_principal
from app.engine import registry
from app.errors import AuthRequired, LutraError
from app.http import error_response

# Dependencies that take an upload slot; a route whose dependencies include one is refused early.
TAKES_A_SLOT: set[Callable[..., Any]] = set()
_TOOL_PATH = re.compile(r"^/api/v1/tools/(?P<section>[^/]+)/(?P<tool_id>[^/]+)")


def slots_of(app: FastAPI) -> UploadSlots:
    """The app's upload slots (one process: touched only on its event loop)."""
    if getattr(app.state, "upload_slots", None) is None:
        app.state.upload_slots = UploadSlots()
    return app.state.upload_slots


def _declares_a_slot(dependant: Any) -> bool:
    return any(d.call in TAKES_A_SLOT or _declares_a_slot(d) for d in dependant.dependencies)


def _routes_of(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(inclusion prefix, route) for every route, however routers were included, without building
    FastAPI's per-inclusion route contexts (iter_route_contexts builds them all: 0.2 s)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes_of(included.routes, prefix + getattr(route.include_context, "prefix", ""))
        else:
            yield prefix, route


def slot_routes(app: FastAPI) -> list[tuple[frozenset[str], re.Pattern[str]]]:
    """(methods, path pattern) of every route that takes an upload slot."""
    found = []
    for prefix, route in _routes_of(app.router.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is not None and _declares_a_slot(dependant):
            pattern = (
                route.path_regex if not prefix else re.compile("^" + re.escape(prefix) + route.path_regex.pattern[1:])
            )
            found.append((frozenset(getattr(route, "methods", ()) or ()), pattern))
    return found


async def _known_caller(scope: Scope) -> Principal | None:
    """The caller when its credential is valid (the cache, or the lookup the app would make anyway, shared
    with the requests bringing the same credential); None for anything the app must answer itself."""
    settings = get_settings()
    if not settings.auth_enabled:
        return None  # no credential to cache: the door would repeat the app's own lookup
    try:
        principal = await credential_principal(Request(scope), settings)
    except AuthRequired:
        return None  # the app answers 401 (and counts it against the address)
    if principal.must_change_password or principal.mfa_enrolment_required:
        return None  # the app says what applies (403): refusing early would hide it
    return principal


class EarlyRefusal:
    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self._routes: list[tuple[frozenset[str], re.Pattern[str]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        user_id, refusal = await self._at_the_door(scope)
        if refusal is not None:
            await error_response(refusal.status, refusal.body(), refusal.headers)(scope, receive, send)
            return
        if user_id is None:
            await self.app(scope, receive, send)
            return
        slots = slots_of(self.fastapi_app)
        slots.enter(user_id)
        try:
            await self.app(scope, receive, send)
        finally:
            slots.leave(user_id)

    def _takes_a_slot(self, method: str, path: str) -> bool:
        if self._routes is None:  # on the first request: every route is registered by then
            self._routes = slot_routes(self.fastapi_app)
        if not any(method in methods and pattern.match(path) for methods, pattern in self._routes):
            return False
        tool_path = _TOOL_PATH.match(path)
        if tool_path is not None:
            # An unknown tool is told so (404) by the app, however busy the server is.
            tool = registry.get(tool_path["tool_id"])
            return tool is not None and tool.section == tool_path["section"]
        return True

    async def _at_the_door(self, scope: Scope) -> tuple[str | None, LutraError | None]:
        """(the caller let in, counted while inside) or (None, the refusal the app would give), or (None,
        None): not an upload route or not a caller named at once, so the app decides alone."""
        if not self._takes_a_slot(scope["method"], scope["path"]):
            return None, None
        principal = await _known_caller(scope)
        if principal is None:
            return None, None
        settings = get_settings()
        if below_floor(settings):
            return None, storage_error(settings)
        refusal = slots_of(self.fastapi_app).refusal(
            principal.user_id, settings.upload_limit_per_user, settings.upload_limit_total, at_the_door=True
        )
        return (None, refusal) if refusal is not None else (principal.user_id, None)
