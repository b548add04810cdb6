"""/api/v1/pipeline: run a chain of tools on a file (or many), and keep named pipelines."""

from __future__ import annotations

import json
import shutil
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from app.admission.deps import JOB_ADMISSION
from app.auth.principal import Principal
from app.db import session_scope
from app.deps import SessionDep, require
from app.engine.spec import Step
from app.engine.tool import Tool
from app.errors import BadRequest, NotFound, NotImplementedFeature, ValidationFailed
from app.jobs.access import job_service
from app.jobs.batch import respond_with_zip
from app.jobs.batch_intake import BatchIntake
from app.jobs.schemas import ACCEPTED_RESPONSE, DONE_RESPONSE
from app.jobs.service import CheckedInputs, JobService, check_uploads, validate_settings
from app.jobs.tool_routes import feature_problem, outcome_error, quietly, split_parts, visible_tools
from app.jobs.uploads import FieldHook, ReceivedForm, receive_form
from app.models import Pipeline

router = APIRouter(prefix="/api/v1/pipeline", tags=["pipelines"])
ToolUser = Annotated[Principal, Depends(require("tools:use"))]
PipelineOwner = Annotated[Principal, Depends(require("pipelines:own"))]


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    toolId: str = Field(min_length=1, max_length=64)
    settings: dict[str, Any] = Field(default_factory=dict)


class PipelineBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    steps: list[StepBody] = Field(min_length=1, max_length=100)


class SaveBody(PipelineBody):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(None, max_length=500)


def pipeline_usable(tool: Tool) -> bool:
    """A step gets exactly one file, the upload or the previous step's output: tools that need no file,
    a second upload, or several files (collage, compare) can't be a step."""
    return tool.inputs.chainable


async def check_steps(steps: list[StepBody], max_steps: int) -> tuple[list[Step], list[Tool]]:
    """Validates every step before anything runs; errors name the step."""
    if max_steps and len(steps) > max_steps:
        raise BadRequest(f"Pipeline exceeds maximum steps ({max_steps}, see MAX_PIPELINE_STEPS)", code="TOO_MANY_STEPS")
    available = {t.id: t for t in await visible_tools()}
    checked: list[Step] = []
    tools: list[Tool] = []
    for number, step in enumerate(steps, start=1):
        label = f"Step {number} ({step.toolId[:64]}): "
        tool = available.get(step.toolId)
        if tool is None:
            raise BadRequest(label + "tool not found or not available", code="UNKNOWN_TOOL")
        if not pipeline_usable(tool):
            raise BadRequest(label + "this tool can't be a pipeline step", code="NOT_PIPELINE_TOOL")
        problem = feature_problem(tool)
        if problem is not None:
            raise NotImplementedFeature(label + str(problem), fields=problem.fields())
        checked.append(Step(tool.id, validate_settings(tool, step.settings, prefix=label)))
        tools.append(tool)
    return checked, tools


def parse_pipeline(form: ReceivedForm) -> PipelineBody:
    raw = form.fields.get("pipeline")
    if raw is None or not raw.strip():
        raise BadRequest("No pipeline definition provided", code="NO_PIPELINE")
    try:
        return PipelineBody.model_validate(json.loads(raw))
    except json.JSONDecodeError as exc:
        raise BadRequest("Pipeline must be valid JSON", code="INVALID_PIPELINE") from exc
    except ValidationError as exc:
        details = {".".join(str(p) for p in e["loc"]) or "pipeline": e["msg"] for e in exc.errors()}
        raise ValidationFailed("Invalid pipeline definition", details=details) from exc


async def receive_pipeline(
    request: Request, service: JobService, job_id: str, *, batch: bool, on_field: FieldHook | None = None
) -> tuple[list[Step], list[Tool], CheckedInputs]:
    settings = service.settings
    try:
        form = await receive_form(
            request,
            service.workspace(job_id) / "in",
            max_file_bytes=settings.max_upload_bytes,
            max_files=(settings.max_batch_size or None) if batch else 1,
            on_field=on_field,
        )
        steps, tools = await check_steps(parse_pipeline(form).steps, settings.max_pipeline_steps)
        main, _ = split_parts(tools[0], form)
        if batch and settings.max_batch_size and len(main) > settings.max_batch_size:
            raise BadRequest(f"Too many files. Maximum batch size is {settings.max_batch_size}", code="TOO_MANY_FILES")
        checked = await check_uploads(tools[0], main, {}, settings, batch=batch)
    except BaseException:
        shutil.rmtree(service.workspace(job_id), ignore_errors=True)
        raise
    return steps, tools, checked


def _steps_json(steps: list[Step]) -> list[dict[str, Any]]:
    return [{"toolId": s.tool_id, "settings": s.settings} for s in steps]


@router.post(
    "/execute",
    summary="Run a pipeline on one file (multipart `file` + `pipeline` JSON)",
    responses={**DONE_RESPONSE, **ACCEPTED_RESPONSE},
    dependencies=[JOB_ADMISSION],
)
async def execute(request: Request, principal: ToolUser) -> Any:
    service = job_service(request)
    job_id = service.new_id()
    steps, tools, checked = await receive_pipeline(request, service, job_id, batch=False)
    return await run_steps(service, principal, job_id, steps, tools, checked)


async def run_steps(
    service: JobService,
    principal: Principal,
    job_id: str,
    steps: list[Step],
    tools: list[Tool],
    checked: CheckedInputs,
    *,
    answer: dict[str, Any] | None = None,
    step_limits: tuple[int, int] | None = None,
) -> Any:
    """Runs checked steps on a received upload as one job: 200 with the result, or 202 when a step is long.

    `answer` adds fields to both answers (and the job's record); `step_limits` holds every intermediate
    file to the upload limits (bytes, megapixels)."""
    answer = answer or {}
    if not any(t.long for t in tools):
        # A fast answer needs a worker now (scaled mode: 503 NO_WORKERS rather than a hang).
        try:
            await service.runner.ensure_workers()
        except BaseException:
            shutil.rmtree(service.workspace(job_id), ignore_errors=True)
            raise
    long = any(t.long for t in tools)
    # A fast pipeline's row is written once, with its result (JobService.create).
    await service.create(
        job_id,
        principal.user_id,
        "pipeline",
        None,
        {"steps": _steps_json(steps), **answer},
        checked.total_bytes,
        deferred=not long,
    )
    timeout = sum(t.timeout_s or service.settings.job_timeout_s for t in tools)
    spec = service.spec(job_id, steps, checked, timeout)
    spec.step_limits = step_limits

    async def run() -> dict[str, Any]:
        try:
            outcome = await service.run_spec(spec, persist_start=long)
            reports = [{"step": r.step, "toolId": r.tool_id, "size": r.size} for r in outcome.steps]
            body = await service.finish(
                job_id, outcome, checked.total_bytes, extra={"stepsCompleted": len(reports), "steps": reports, **answer}
            )
        finally:
            service.abandon(job_id)
        if body is None:
            raise outcome_error(outcome)
        return body

    if long:
        service.run_in_background(quietly(run()))
        return JSONResponse({"jobId": job_id, "async": True, **answer}, status_code=202)
    return await run()


@router.post("/batch", summary="Run a pipeline on many files; answers one ZIP", dependencies=[JOB_ADMISSION])
async def batch(request: Request, principal: ToolUser) -> Any:
    """Send many `files` and a `pipeline`; answers a ZIP with X-Job-Id and X-File-Results headers. A
    `clientJobId` form field (before the files) names the job at once, to follow its progress while it
    runs; `?async=true` answers 202 {jobId} and the ZIP becomes the job's result."""
    service = job_service(request)
    intake = BatchIntake(service, principal.user_id, None)
    try:
        steps, tools, checked = await receive_pipeline(
            request, service, intake.upload_id, batch=True, on_field=intake.on_field
        )
    except BaseException as exc:
        await intake.refused(exc)
        raise
    timeout = sum(t.timeout_s or service.settings.job_timeout_s for t in tools)
    return await respond_with_zip(
        request,
        principal,
        service,
        intake.job_id,
        "pipeline",
        steps,
        checked,
        timeout,
        None,
        _steps_json(steps),
        intake,
    )


def _view(p: Pipeline) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description or None,
        "steps": p.steps,
        "userId": p.user_id,
        "createdAt": p.created_at.isoformat(),
    }


@router.post("/save", status_code=201, summary="Save a named pipeline")
async def save(body: SaveBody, request: Request, principal: PipelineOwner) -> Any:
    steps, _ = await check_steps(body.steps, job_service(request).settings.max_pipeline_steps)

    def store() -> dict[str, Any]:
        with session_scope() as db:
            row = Pipeline(
                user_id=principal.user_id,
                name=body.name.strip(),
                description=body.description or "",
                steps=_steps_json(steps),
            )
            db.add(row)
            db.flush()
            return _view(row)

    return await run_in_threadpool(store)


@router.get("/list", summary="Saved pipelines (your own; pipelines:all sees everyone's)")
def list_pipelines(principal: PipelineOwner, db: SessionDep) -> Any:
    stmt = select(Pipeline).order_by(Pipeline.created_at.desc())
    if not principal.has("pipelines:all"):
        stmt = stmt.where(Pipeline.user_id == principal.user_id)
    return {"pipelines": [_view(p) for p in db.scalars(stmt)]}


@router.delete("/{pipeline_id}", summary="Delete a saved pipeline (owner, or pipelines:all)")
def delete_pipeline(pipeline_id: str, principal: PipelineOwner, db: SessionDep) -> Any:
    row = db.get(Pipeline, pipeline_id)
    if row is None or (row.user_id != principal.user_id and not principal.has("pipelines:all")):
        raise NotFound("Pipeline not found")
    db.delete(row)
    return {"ok": True}


@router.get("/tools", summary="Tool ids usable as pipeline steps")
async def pipeline_tools(_: PipelineOwner) -> Any:
    """Exactly the tools check_steps accepts: chainable, and (AI tools) with their models installed."""
    tools = await visible_tools()
    return {"toolIds": [t.id for t in tools if pipeline_usable(t) and feature_problem(t) is None]}
