"""/api/v1/tools: the catalog, and the routes that run every tool (each documented with its own schema)."""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from starlette.routing import BaseRoute

from app.admission.deps import job_admitted
from app.admission.early import TAKES_A_SLOT
from app.auth.principal import Principal
from app.db import get_engine, session_scope
from app.deps import CurrentUser, require
from app.engine import registry
from app.engine.ai import bundles
from app.engine.ai.bundles import FeatureNotInstalled
from app.engine.media.sniff import mime_for, sniff_file
from app.engine.spec import Outcome, Step
from app.engine.tool import Action, Tool, ToolSettings
from app.errors import BadRequest, LutraError, NotFound, NotImplementedFeature
from app.files.service import save_job_output, stage_for_job
from app.jobs.access import job_service
from app.jobs.schemas import ACCEPTED_RESPONSE, DONE_RESPONSE
from app.jobs.service import CheckedInputs, JobService, check_uploads, parse_settings_text, validate_settings
from app.jobs.uploads import FieldHook, ReceivedForm, UploadedFile, receive_form
from app.settings import service as runtime_settings

router = APIRouter(tags=["tools"])
ToolUser = Annotated[Principal, Depends(require("tools:use"))]
MAIN_FIELDS = ("file", "files", "file[]", "files[]")
# The routes that serve every tool: run, batch, an action (in this order: "batch" is not an action).
SERVING_PATHS = (
    "/api/v1/tools/{section}/{tool_id}",
    "/api/v1/tools/{section}/{tool_id}/batch",
    "/api/v1/tools/{section}/{tool_id}/{action}",
)


def _read_visibility() -> tuple[set[str], bool]:
    with session_scope() as db:
        return runtime_settings.disabled_tools(db), runtime_settings.experimental_enabled(db)


# Every tool request needs the disabledTools/experimental settings; reading them is a database round
# trip, so they are cached briefly. A write in this process drops the cache at once (settings
# version); other processes (several workers behind one database) see it within the TTL.
_VISIBILITY_TTL_S = 2.0
_visibility_cache: tuple[tuple[int, int], float, tuple[set[str], bool]] | None = None


async def _visibility() -> tuple[set[str], bool]:
    global _visibility_cache
    now = time.monotonic()
    # Keyed by the engine too: a new database (a restart, a test's fresh app) never sees stale values.
    key = (id(get_engine()), runtime_settings.version())
    cached = _visibility_cache
    if cached is not None and cached[0] == key and now - cached[1] < _VISIBILITY_TTL_S:
        return cached[2]
    value = await run_in_threadpool(_read_visibility)
    _visibility_cache = (key, now, value)
    return value


async def visible_tools() -> list[Tool]:
    disabled, experimental = await _visibility()
    return [t for t in registry.all_tools() if t.id not in disabled and (experimental or not t.experimental)]


async def find_tool(section: str, tool_id: str) -> Tool:
    tool = registry.get(tool_id)
    if tool is None or tool.section != section:
        raise NotFound(f'Tool "{tool_id[:64]}" not found', code="TOOL_NOT_FOUND")
    disabled, experimental = await _visibility()
    if tool.id in disabled or (tool.experimental and not experimental):
        raise NotFound(f'Tool "{tool_id[:64]}" not found', code="TOOL_NOT_FOUND")
    return tool


def feature_problem(tool: Tool) -> FeatureNotInstalled | None:
    """Why an AI tool can't run on this server right now (its bundle or a model it needs is missing)."""
    if tool.feature is None:
        return None
    try:
        bundles.check_feature(tool.feature, tool.models)
    except FeatureNotInstalled as exc:
        return exc
    return None


def not_installed(exc: FeatureNotInstalled) -> LutraError:
    return NotImplementedFeature(str(exc), fields=exc.fields())


def _describe_with_feature(tool: Tool) -> dict[str, Any]:
    body = tool.describe()
    if tool.feature is not None:
        bundle = bundles.get_bundle(tool.feature)
        problem = feature_problem(tool)
        body["featureName"] = bundle.name if bundle else tool.feature
        body["featureInstalled"] = problem is None
        # What an install would fetch for this tool (its own models, else the whole bundle), so a
        # client can say "needs the X model (N MB)" before anyone uploads a file.
        only = list(tool.models) or None
        body["featureDownloadSize"] = bundle.download_size(only) if bundle and problem is not None else 0
    return body


async def usable_tool(section: str, tool_id: str) -> Tool:
    """A visible tool that can run here: 501 FEATURE_NOT_INSTALLED for an AI tool without its models."""
    tool = await find_tool(section, tool_id)
    problem = feature_problem(tool)
    if problem is not None:
        raise not_installed(problem)
    return tool


@router.get("/api/v1/tools", summary="Every available tool with its inputs and settings JSON Schema")
async def list_tools(_: CurrentUser) -> Any:
    tools = await visible_tools()
    return {"tools": await run_in_threadpool(lambda: [_describe_with_feature(t) for t in tools])}


@router.get("/api/v1/tools/{section}/{tool_id}", summary="One tool's description and settings schema")
async def show_tool(section: str, tool_id: str, _: CurrentUser) -> Any:
    return _describe_with_feature(await find_tool(section, tool_id))


def outcome_error(outcome: Outcome) -> LutraError:
    reason = outcome.error or "Processing failed"
    if outcome.status == "canceled":
        return LutraError("Canceled", status=422, code="CANCELED")
    if outcome.code == "FEATURE_NOT_INSTALLED":
        return NotImplementedFeature(reason, fields=outcome.data)
    if outcome.http_status == 422:
        return LutraError(f"Processing failed: {reason}", status=422, code=outcome.code, details={"reason": reason})
    return LutraError(reason, status=outcome.http_status, code=outcome.code)


def split_parts(tool: Tool, form: ReceivedForm) -> tuple[list[UploadedFile], dict[str, UploadedFile]]:
    extra_names = {p.name for p in tool.inputs.extra}
    extra = {f.field: f for f in form.files if f.field in extra_names}
    main = [f for f in form.files if f.field not in extra_names]
    unknown = [f.field for f in main if f.field not in MAIN_FIELDS]
    if unknown:
        raise BadRequest(f"Unexpected file field {unknown[0]!r}; send files as 'file'", code="UNEXPECTED_FIELD")
    return main, extra


async def read_json_body(request: Request) -> dict[str, Any]:
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > 64 * 1024:
            raise BadRequest("Request body too large (max 64 KB)", code="SETTINGS_TOO_LARGE")
    text = raw.decode("utf-8", "replace")
    return parse_settings_text(text)


def refused_input(service: JobService, job_id: str, outcome: Outcome) -> LutraError:
    """A fast job whose input the worker refused (header/probe check): answered like the server's own
    check would have, with no job row and no workspace left behind."""
    service.abandon(job_id)
    service.forget_start(job_id)
    shutil.rmtree(service.workspace(job_id), ignore_errors=True)
    return outcome_error(outcome)


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def receive_tool_request(
    request: Request,
    service: JobService,
    tool: Tool,
    job_id: str,
    *,
    batch: bool = False,
    model: type[ToolSettings] | None = None,
    principal: Principal | None = None,
    on_field: FieldHook | None = None,
) -> tuple[dict[str, Any], CheckedInputs | None]:
    """Streams the upload into the job's workspace and checks settings and files.

    With a principal, settings may name a library file (`fileId`) instead of an upload."""
    settings = service.settings
    json_body = not batch and _is_json(request)
    if not tool.inputs.takes_files or (tool.inputs.min_files == 0 and json_body):
        return validate_settings(tool, await read_json_body(request), model=model), None
    if json_body:
        # No upload: a JSON body may still name a library file, {"fileId": "...", <settings>}.
        raw = await read_json_body(request)
        if principal is None or "fileId" not in raw:
            raise BadRequest(
                "This tool takes a file: send multipart/form-data with `file`, or a JSON body with `fileId`",
                code="NO_FILE",
            )
        form = ReceivedForm()
    else:
        limit = (settings.max_batch_size or None) if batch else tool.inputs.max_files
        form = await receive_form(
            request,
            service.workspace(job_id) / "in",
            max_file_bytes=settings.max_upload_bytes,
            max_files=None if limit is None else limit + len(tool.inputs.extra),  # None: MAX_BATCH_SIZE unset
            on_field=on_field,
        )
        raw = parse_settings_text(form.fields.get("settings"))
    values = validate_settings(tool, raw, model=model)
    main, extra = split_parts(tool, form)
    library_id = raw.get("fileId") if principal is not None and not batch else None
    if library_id is not None and not main:
        path, name, size = await run_in_threadpool(
            stage_for_job, principal, settings, library_id, service.workspace(job_id) / "in"
        )
        main = [UploadedFile(field="file", filename=name, path=path, size=size)]
    else:
        library_id = None
    if batch and settings.max_batch_size and len(main) > settings.max_batch_size:
        raise BadRequest(f"Too many files. Maximum batch size is {settings.max_batch_size}", code="TOO_MANY_FILES")
    # A fast tool's answer waits for its worker anyway: the header/probe checks run there.
    checked = await check_uploads(tool, main, extra, settings, batch=batch, probe=batch or tool.long)
    checked.library_file_id = library_id
    return values, checked


async def run_tool(request: Request, principal: Principal, tool: Tool) -> Any:
    service = job_service(request)
    job_id = service.new_id()
    try:
        values, checked = await receive_tool_request(request, service, tool, job_id, principal=principal)
        if not tool.long:
            await service.runner.ensure_workers()  # scaled mode: 503 NO_WORKERS rather than a hang
    except BaseException:
        shutil.rmtree(service.workspace(job_id), ignore_errors=True)
        raise
    checked = checked or CheckedInputs([])
    # A fast job's row is written once, with its result (JobService.create).
    await service.create(job_id, principal.user_id, "tool", tool, values, checked.total_bytes, deferred=not tool.long)
    spec = service.spec(job_id, [Step(tool.id, values)], checked, tool.timeout_s)

    async def execute() -> dict[str, Any] | None:
        start_within = None if tool.long else spec.timeout_s
        try:
            outcome = await service.run_spec(spec, persist_start=tool.long, start_within=start_within)
            if outcome.input_refused:
                raise refused_input(service, job_id, outcome)
            extra = None
            if checked.library_file_id and outcome.status == "completed" and outcome.outputs:
                extra = await save_to_library(principal, service, checked.library_file_id, outcome, job_id, tool.id)
            body = await service.finish(job_id, outcome, checked.total_bytes, extra)
        finally:
            service.abandon(job_id)
        if body is None:
            raise outcome_error(outcome)
        return body

    if tool.long:
        service.run_in_background(quietly(execute()))
        return JSONResponse({"jobId": job_id, "async": True}, status_code=202)
    return await execute()


async def save_to_library(
    principal: Principal, service: JobService, file_id: str, outcome: Outcome, job_id: str, tool_id: str
) -> dict[str, Any]:
    """The result of a run on a library file becomes that file's next version (savedFileId in the answer)."""
    try:
        saved = await run_in_threadpool(
            save_job_output, principal, service.settings, Path(outcome.outputs[0]), file_id, job_id, tool_id
        )
    except LutraError as exc:
        # The tool's result still stands (and is downloadable); only the save failed, e.g. over quota.
        return {"savedFileId": None, "saveError": exc.message}
    return {"savedFileId": saved}


async def run_action(request: Request, principal: Principal, tool: Tool, action: Action) -> Any:
    """A tool's sub-route: runs at once like a fast tool and answers JSON data or the file itself."""
    service = job_service(request)
    job_id = service.new_id()
    model = action.settings or tool.settings
    try:
        values, checked = await receive_tool_request(request, service, tool, job_id, model=model)
        await service.runner.ensure_workers()
    except BaseException:
        shutil.rmtree(service.workspace(job_id), ignore_errors=True)
        raise
    checked = checked or CheckedInputs([])
    kind = "lookup" if action.lookup else "action"  # lookups (the UI's PDF previews, ...) are not usage
    await service.create(
        job_id, principal.user_id, kind, tool, {**values, "action": action.name}, checked.total_bytes, deferred=True
    )
    spec = service.spec(job_id, [Step(tool.id, values, action.name)], checked, tool.timeout_s)
    try:
        outcome = await service.run_spec(spec, persist_start=False, start_within=spec.timeout_s)
        if outcome.input_refused:
            raise refused_input(service, job_id, outcome)
        body = await service.finish(job_id, outcome, checked.total_bytes)
    finally:
        service.abandon(job_id)
    if body is None:
        raise outcome_error(outcome)
    if action.returns == "json":
        return outcome.data
    if not outcome.outputs:
        raise LutraError("Processing failed: no output", status=422, code="PROCESSING_FAILED")
    path = Path(outcome.outputs[0])
    headers = {
        "X-" + "-".join(w.capitalize() for w in _words(k)): str(v)
        for k, v in outcome.data.items()
        if isinstance(v, str | int | float | bool)
    }
    headers["X-Job-Id"] = job_id
    return FileResponse(path, media_type=mime_for(sniff_file(path) or ""), headers=headers)


def _words(key: str) -> list[str]:
    """camelCase to words, for header names: originalSize -> Original-Size."""
    return re.sub(r"([A-Z])", r" \1", key).split() or [key]


async def quietly(coro: Any) -> None:
    # Background jobs report failure through their row and the event stream, not an exception.
    with contextlib.suppress(LutraError):
        await coro


def _openapi_for(tool: Tool) -> dict[str, Any]:
    schema = tool.settings.model_json_schema()
    if not tool.inputs.takes_files:
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
    props: dict[str, Any] = {
        "file": {"type": "string", "format": "binary", "description": f"Input ({', '.join(tool.inputs.kinds)})"},
        "settings": {
            "type": "string",
            "description": "Settings as a JSON string",
            "contentMediaType": "application/json",
            "contentSchema": schema,
        },
    }
    for part in tool.inputs.extra:
        props[part.name] = {"type": "string", "format": "binary", "description": part.description or part.name}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": props, "required": ["file"]}}
            },
        }
    }


def _describe(tool: Tool) -> str:
    mode = (
        "Long-running: answers 202 {jobId, async: true}; follow /api/v1/jobs/{jobId}/progress."
        if tool.long
        else "Answers 200 {jobId, downloadUrl, originalSize, processedSize}."
    )
    files = (
        f"Takes {tool.inputs.min_files}-{tool.inputs.max_files} file(s)."
        if tool.inputs.takes_files
        else "Takes a JSON body (no upload)."
    )
    return f"{tool.description}\n\n{files} {mode}"


def _documented(name: str) -> Any:
    """An endpoint for the OpenAPI document only (its name is the operation id; it is never served)."""

    async def endpoint(request: Request, principal: ToolUser) -> Any:
        raise NotImplementedError("documentation only: the routes of add_tool_routes serve tools")

    endpoint.__name__ = name
    return endpoint


def documented_routes() -> list[BaseRoute]:
    """One route per tool, its action and its batch, each with its own settings schema: for the OpenAPI
    document only (app.openapi_doc builds it from these on first request). Requests are served by the
    three routes of add_tool_routes: registering ~500 routes took half a second of every start-up, and
    matching a request against them a millisecond of every request."""
    router = APIRouter()
    for tool in registry.all_tools():
        name = tool.id.replace("-", "_")
        request_body = _openapi_for(tool)
        router.add_api_route(
            tool.path,
            _documented(f"tool_{name}"),
            methods=["POST"],
            summary=tool.title,
            description=_describe(tool),
            tags=[f"tools: {tool.section}"],
            openapi_extra=request_body,
            status_code=202 if tool.long else 200,
            responses=ACCEPTED_RESPONSE if tool.long else DONE_RESPONSE,
        )
        for act in registry.actions_of(tool.id):
            router.add_api_route(
                f"{tool.path}/{act.name}",
                _documented(f"action_{name}_{act.name.replace('-', '_')}"),
                methods=["POST"],
                summary=f"{tool.title}: {act.summary}",
                tags=[f"tools: {tool.section}"],
                openapi_extra=request_body,
            )
        if tool.inputs.takes_files:
            router.add_api_route(
                tool.path + "/batch",
                _documented(f"batch_{name}"),
                methods=["POST"],
                summary=f"{tool.title} (batch: many files, one ZIP)",
                tags=[f"tools: {tool.section}"],
                description=(
                    "Send many `files`; answers a ZIP with X-Job-Id and X-File-Results headers. A `clientJobId`"
                    " form field (1-64 letters, digits, - or _; sent before the files) names the job at once,"
                    " to follow /api/v1/jobs/{clientJobId}/progress while it runs (409 JOB_ID_TAKEN when in use);"
                    " `?async=true` answers 202 {jobId} and the ZIP becomes the job's result (downloadUrl)."
                ),
                openapi_extra=request_body,
            )
    return list(router.routes)


async def _admitted_tool(section: str, tool_id: str, request: Request, principal: ToolUser) -> AsyncIterator[Tool]:
    """The tool a request names (404, or 501 for an AI tool without its models), then admission (507, 429,
    503), in that order: a request for a tool that does not exist is told so, whatever the load."""
    tool = await usable_tool(section, tool_id)
    async with job_admitted(request, principal):
        yield tool


TAKES_A_SLOT.add(_admitted_tool)
# scope="function": the upload slot is released when the handler returns, not after the answer is sent.
AdmittedTool = Annotated[Tool, Depends(_admitted_tool, scope="function")]


def add_tool_routes(app: FastAPI) -> None:
    """Every tool through three routes; the tool comes from the path (a dictionary lookup)."""
    from app.jobs.batch import run_batch

    async def tool_route(request: Request, principal: ToolUser, tool: AdmittedTool) -> Any:
        return await run_tool(request, principal, tool)

    async def batch_route(request: Request, principal: ToolUser, tool: AdmittedTool) -> Any:
        if not tool.inputs.takes_files:
            raise NotFound(f'Tool "{tool.id}" takes no files, so it has no batch route', code="NOT_FOUND")
        return await run_batch(request, principal, tool)

    async def action_route(request: Request, principal: ToolUser, tool: AdmittedTool, action: str) -> Any:
        found = next((a for a in registry.actions_of(tool.id) if a.name == action), None)
        if found is None:
            raise NotFound(f'Tool "{tool.id}" has no action "{action[:64]}"', code="NOT_FOUND")
        return await run_action(request, principal, tool, found)

    for path, endpoint in zip(SERVING_PATHS, (tool_route, batch_route, action_route), strict=True):
        app.add_api_route(path, endpoint, methods=["POST"], include_in_schema=False)
