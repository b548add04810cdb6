"""/api/v1/convert: any file to any format the catalog can reach, run as a pipeline of tools."""

from __future__ import annotations

import shutil
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from app.auth.principal import Principal
from app.convert.graph import ALIASES, MAX_STEPS, Graph, Route, graph_of, normalise
from app.deps import CurrentUser, require
from app.engine.media.sniff import sniff_file
from app.engine.spec import Step
from app.errors import BadRequest, LutraError, UnsupportedMedia
from app.jobs.access import job_service
from app.jobs.service import check_uploads, parse_settings_text, validate_settings
from app.jobs.tool_routes import MAIN_FIELDS, feature_problem, not_installed, visible_tools
from app.jobs.uploads import receive_form
from app.pipelines.routes import run_steps

router = APIRouter(prefix="/api/v1/convert", tags=["convert"])
ToolUser = Annotated[Principal, Depends(require("tools:use"))]


async def current_graph() -> Graph:
    """The graph of the tools this server shows now (disabled and hidden experimental tools left out)."""
    return graph_of(tuple(await visible_tools()))


def _known(graph: Graph, name: str, what: str) -> str:
    kind = normalise(name)
    if kind not in graph.kinds:
        raise BadRequest(
            f"Unknown {what} format {name[:32]!r}; GET /api/v1/convert/formats lists them", code="UNKNOWN_FORMAT"
        )
    return kind


def find_route(graph: Graph, source: str, target: str) -> Route:
    if source == target:
        raise BadRequest(f"The file is already {source}", code="SAME_FORMAT")
    route = graph.route(source, target)
    if route is None:
        raise LutraError(
            f"No conversion from {source} to {target} within {MAX_STEPS} steps "
            f"(GET /api/v1/convert/routes?from={source} lists what {source} converts to)",
            status=422,
            code="NO_ROUTE",
        )
    return route


@router.get("/formats", summary="The conversion matrix: every format with the formats it converts to")
async def formats(_: CurrentUser) -> Any:
    graph = await current_graph()
    matrix = await run_in_threadpool(graph.matrix)
    return {
        "formats": graph.kinds,
        "matrix": matrix,
        "pairs": sum(len(targets) for targets in matrix.values()),
        "maxSteps": MAX_STEPS,
        "aliases": ALIASES,
    }


@router.get("/routes", summary="The routes from a format (or to one target): the tools each conversion runs")
async def routes(
    _: CurrentUser,
    source: Annotated[str, Query(alias="from", max_length=32, description="Input format, e.g. heic, docx, mkv")],
    to: Annotated[str | None, Query(max_length=32, description="Only the route to this format")] = None,
) -> Any:
    graph = await current_graph()
    kind = _known(graph, source, "input")
    if to is not None:
        return {"from": kind, "routes": [find_route(graph, kind, _known(graph, to, "target")).describe()]}
    found = await run_in_threadpool(graph.routes_from, kind)
    return {"from": kind, "routes": [r.describe() for r in found.values()]}


@router.post(
    "",
    summary="Convert a file to another format by the shortest chain of tools (multipart `file` + `to`)",
    description="Send the file as `file` and the target format as the form field `to` (or `settings` JSON "
    '`{"to": "pdf"}`). The input type is judged by content. Answers like a pipeline (200, or 202 with a '
    "jobId when a step is long), with `route` naming the tools it ran. Intermediate files are held to "
    "the upload limits.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "to": {"type": "string", "description": "Target format, e.g. pdf, png, mp4, json"},
                            "settings": {"type": "string", "description": 'JSON string, e.g. {"to": "pdf"}'},
                        },
                        "required": ["file"],
                    }
                }
            },
        }
    },
)
async def convert(request: Request, principal: ToolUser) -> Any:
    service = job_service(request)
    job_id = service.new_id()
    try:
        form = await receive_form(
            request, service.workspace(job_id) / "in", max_file_bytes=service.settings.max_upload_bytes, max_files=1
        )
        main = [f for f in form.files if f.field in MAIN_FIELDS]
        if not main:
            raise BadRequest("No file provided", code="NO_FILE")
        target_name = form.fields.get("to") or parse_settings_text(form.fields.get("settings")).get("to")
        if not isinstance(target_name, str) or not target_name.strip():
            raise BadRequest("Say the target format as `to` (e.g. to=pdf)", code="NO_TARGET")
        graph = await current_graph()
        target = _known(graph, target_name, "target")
        source = await run_in_threadpool(sniff_file, main[0].path)
        if source is None or source not in graph.kinds:
            shown = source or "unrecognised content"
            raise UnsupportedMedia(f"{main[0].filename!r} is {shown}, which Lutra can't convert")
        route = find_route(graph, source, target)
        tools = [e.tool for e in route.edges]
        for tool in tools:
            problem = feature_problem(tool)
            if problem is not None:
                raise not_installed(problem)
        checked = await check_uploads(tools[0], main, {}, service.settings)
        steps = [Step(e.tool.id, validate_settings(e.tool, dict(e.produces.settings))) for e in route.edges]
    except BaseException:
        shutil.rmtree(service.workspace(job_id), ignore_errors=True)
        raise
    limits = (service.settings.max_upload_bytes, service.settings.max_megapixels)
    return await run_steps(
        service, principal, job_id, steps, tools, checked, answer={"route": route.describe()}, step_limits=limits
    )
