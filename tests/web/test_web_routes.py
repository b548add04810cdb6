"""The browser UI's serving side, without a browser: the shell at every UI path under a strict CSP, the
static assets (present, shipped in the package, their imports resolvable), and the API left untouched."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from fastapi.testclient import TestClient

from app.web.routes import STATIC_DIR, UI_PATHS, WEB_DIR

ROOT = Path(__file__).resolve().parents[2]
ASSETS = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())
IMPORT = re.compile(r"""(?:\bfrom\s+|\bimport\s*\(?\s*)['"](\.{1,2}/[^'"]+)['"]""")
CONCRETE = {"{section}": "image", "{tool_id}": "resize", "{file_id}": "f00", "{tab}": "users"}


def concrete(path: str) -> str:
    for param, value in CONCRETE.items():
        path = path.replace(param, value)
    return path


def test_every_ui_path_answers_the_shell_under_a_strict_csp(client: TestClient) -> None:
    for path in (concrete(p) for p in UI_PATHS):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/static/app.js"></script>' in r.text
        # No inline script anywhere: every <script> has a src.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"


def test_static_assets_are_served_with_their_types_and_the_csp(client: TestClient) -> None:
    types = {
        ".js": "text/javascript",
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".webmanifest": "application/manifest+json",
        ".json": "application/json",  # the message catalogues (i18n/<locale>.json)
    }
    assert {p.suffix for p in ASSETS} <= set(types)
    for path in ASSETS:
        r = client.get("/static/" + path.relative_to(STATIC_DIR).as_posix())
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith(types[path.suffix]), (path, r.headers["content-type"])
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
        assert r.content == path.read_bytes()
    assert client.get("/static/../routes.py").status_code == 404
    assert client.get("/static/nope.js").status_code == 404


def test_the_service_worker_caches_only_the_app_shell(client: TestClient) -> None:
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "no-cache"  # an upgrade is seen at the next page load
    version = re.search(r"const VERSION = '([0-9a-f]{16})';", r.text)
    assert version, "the version placeholder was not filled in"
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", r.text).group(1))
    assert assets[0] == "/" and "/static/app.js" in assets and "/static/manifest.webmanifest" in assets
    assert all(a == "/" or a.startswith("/static/") for a in assets)  # never the API or user files
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    manifest = client.get("/static/manifest.webmanifest").json()
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert icon["src"] in assets


def test_every_module_import_resolves_to_a_file() -> None:
    """A typo in an import path would leave a blank page; this finds it without a browser."""
    for path in ASSETS:
        if path.suffix != ".js":
            continue
        for target in IMPORT.findall(path.read_text()):
            assert (path.parent / target).resolve().is_file(), f"{path.name} imports missing {target}"


def test_the_ui_never_shadows_the_api(client: TestClient) -> None:
    r = client.get("/api/v1/not-a-route")
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    assert client.get("/llms.txt").headers["content-type"].startswith("text/plain")
    assert client.get("/api/v1/tools").status_code == 401
    assert client.get("/not-a-page").status_code == 404
    assert all(not p.startswith(("/api", "/llms", "/static")) for p in UI_PATHS)


def test_the_assets_ship_in_the_package() -> None:
    """Static files sit in folders without __init__.py: package-data must name them for a wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped: set[Path] = {p for pattern in config.get("app.web", []) for p in WEB_DIR.glob(pattern)}
    shipped |= {p for pattern in config.get("*", []) for p in WEB_DIR.glob(pattern)}
    missing = [p.relative_to(WEB_DIR).as_posix() for p in [*ASSETS, WEB_DIR / "index.html"] if p not in shipped]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
