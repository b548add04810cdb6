"""Serves the browser UI: the HTML shell at every UI path (the page's script routes on the client) and
the static assets, all under a strict Content-Security-Policy.

The UI holds no data of its own: every page fetches what it shows from /api with the session cookie,
so these routes are public like any static site, and nothing here may shadow /api or /llms.txt.
"""

from __future__ import annotations

import hashlib
import html
import json
import mimetypes
import os
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from app.branding import service as branding
from app.config import get_settings
from app.deps import SessionDep

# Not in every system's mime.types; browsers read a manifest best under its registered type.
mimetypes.add_type("application/manifest+json", ".webmanifest")

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
STATIC_PREFIX = "/static"

# The client-side routes (app.js has the same list): a reload or a shared link lands on the shell.
UI_PATHS = (
    "/",
    "/login",
    "/change-password",
    "/setup-2fa",
    "/tools/{section}/{tool_id}",
    "/convert",
    "/pdf-organizer",
    "/pipelines",
    "/automations",
    "/files",
    "/files/{file_id}",
    "/settings",
    "/settings/{tab}",
)

# Scripts and styles come from our own files only: no inline script or style, no eval. Results are
# shown through blob: URLs (fetched previews) and same-origin downloads.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Revalidated on every load (ETag/Last-Modified answer 304), so an upgrade never runs stale scripts.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@lru_cache
def _shell() -> str:
    return (WEB_DIR / "index.html").read_text(encoding="utf-8")


def ui_page(db: SessionDep) -> HTMLResponse:
    # The app name is written by the server, so the tab shows it before any script has run.
    name = html.escape(branding.app_name(db))
    page = _shell().replace("<title>Lutra</title>", f"<title>{name}</title>", 1)
    # The server's default language, for a browser whose own languages are none of the UI's (i18n.js).
    locale = get_settings().default_locale
    page = page.replace('<html lang="en">', f'<html lang="{locale}" data-default-locale="{locale}">', 1)
    page = page.replace('<a class="brand" href="/">Lutra</a>', f'<a class="brand" href="/">{name}</a>', 1)
    return HTMLResponse(page, headers=HEADERS)


for _path in UI_PATHS:
    router.add_api_route(_path, ui_page, methods=["GET"], name=f"ui:{_path}")

# What the service worker keeps for offline start: the shell and the UI's own files, nothing else.
SHELL_SUFFIXES = (".js", ".css", ".svg", ".png", ".webmanifest")


@lru_cache
def _service_worker() -> str:
    """sw.js with its version (a hash of every UI file) and asset list filled in."""
    files = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file() and p.suffix in SHELL_SUFFIXES)
    digest = hashlib.sha256(_shell().encode())
    for path in files:
        digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    assets = ["/"] + [f"{STATIC_PREFIX}/{p.relative_to(STATIC_DIR).as_posix()}" for p in files]
    template = (WEB_DIR / "sw.js").read_text(encoding="utf-8")
    return template.replace("__VERSION__", digest.hexdigest()[:16]).replace("__ASSETS__", json.dumps(assets))


@router.get("/sw.js")
def service_worker() -> Response:
    """Served from the root so that its scope is the whole UI."""
    return Response(_service_worker(), media_type="text/javascript", headers=HEADERS)


class StaticAssets(StaticFiles):
    """Starlette's static files with the UI's security and caching headers."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(HEADERS)
        return response


def mount_web(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticAssets(directory=STATIC_DIR), name="web-static")
