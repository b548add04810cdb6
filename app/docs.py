"""Machine-readable docs: OpenAPI as YAML, and llms.txt summaries built from the same schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

router = APIRouter(tags=["docs"])

INTRO = (
    "# Lutra\n\n"
    "> Self-hosted media toolbox: images, video, audio, PDFs, office and data files behind one REST API. "
    "Nothing leaves the server it runs on.\n\n"
    "Authenticate with `Authorization: Bearer <token>` (from POST /api/auth/login) or an API key "
    '(`si_...`, from POST /api/v1/api-keys). Errors are JSON `{"error", "code"}`; validation errors add '
    "`details`. Interactive docs: /api/docs. Full spec: /api/v1/openapi.yaml.\n"
)


def openapi_yaml(app: FastAPI) -> str:
    cached: str | None = getattr(app.state, "openapi_yaml", None)
    if cached is None:
        import yaml  # only this route needs it: not imported at start-up

        # libyaml's dumper writes the same text as the pure-Python one, about five times faster: the
        # spec covers every tool, so it is a few hundred kilobytes.
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        # The routes are fixed once the app is built, and so is the document.
        cached = yaml.dump(app.openapi(), Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)
        app.state.openapi_yaml = cached
    return cached


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                ops.append((method.upper(), path, op))
    return ops


def llms_txt(app: FastAPI, *, full: bool) -> str:
    spec = app.openapi()
    lines = [INTRO]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for method, path, op in _operations(spec):
        by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((method, path, op))
    for tag, ops in by_tag.items():
        lines.append(f"\n## {tag}\n")
        for method, path, op in ops:
            lines.append(f"- {method} {path}: {op.get('summary', '')}")
            if full:
                for param in op.get("parameters", []):
                    desc = param.get("description", "")
                    lines.append(f"  - {param.get('in')} `{param.get('name')}`{': ' + desc if desc else ''}")
                body = op.get("requestBody", {}).get("content", {})
                for ctype, content in body.items():
                    ref = content.get("schema", {}).get("$ref", "")
                    lines.append(f"  - body ({ctype}){': ' + ref.rsplit('/', 1)[-1] if ref else ''}")
    if full:
        lines.append("\n## Schemas\n")
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            props = schema.get("properties", {})
            fields = ", ".join(f"{k}{'' if k not in schema.get('required', []) else '*'}" for k in props)
            lines.append(f"- {name}: {fields}")
    return "\n".join(lines) + "\n"


@router.get("/api/v1/openapi.yaml", include_in_schema=False)
def openapi_document(request: Request) -> Response:
    return Response(openapi_yaml(request.app), media_type="application/yaml")


@router.get("/llms.txt", include_in_schema=False)
def llms(request: Request) -> PlainTextResponse:
    return PlainTextResponse(llms_txt(request.app, full=False))


@router.get("/llms-full.txt", include_in_schema=False)
def llms_full(request: Request) -> PlainTextResponse:
    return PlainTextResponse(llms_txt(request.app, full=True))


# Swagger UI's assets come from a package, not a CDN: self-hosted servers often have no internet.
DOCS_ASSETS = "/api/docs/assets"


def mount_docs_assets(app: FastAPI) -> None:
    import fastapi_offline

    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=static), name="docs-assets")


@router.get("/api/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="Lutra API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
    )
