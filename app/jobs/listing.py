"""GET /api/v1/jobs and /api/v1/jobs/<id>: jobs to poll, in the states the progress stream shows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from app import cursor
from app.auth.principal import Principal
from app.db import session_scope
from app.deps import CurrentUser
from app.errors import Forbidden
from app.jobs.access import job_service, visible_job
from app.jobs.events import TERMINAL, split_seq
from app.jobs.routes import row_event, terminal_event
from app.models import Job

router = APIRouter(tags=["jobs"])
# The stream's vocabulary: a job waiting for a slot is "processing" at 0 %.
Status = Literal["processing", "completed", "failed", "canceled"]
_ROW_STATUSES: dict[str, tuple[str, ...]] = {
    "processing": ("queued", "processing"),
    "completed": ("completed",),
    "failed": ("failed",),
    "canceled": ("canceled",),
}
_BATCH_FIELDS = ("totalFiles", "completedFiles", "failedFiles", "currentFile")


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def job_view(job: Job, live: dict[str, Any] | None = None) -> dict[str, Any]:
    """The job as a poller sees it: the stream's latest frame plus what the row adds."""
    event = terminal_event(job) if job.status in TERMINAL else live or row_event(job)
    _, event = split_seq(event)
    view: dict[str, Any] = {
        "jobId": job.id,
        "kind": job.kind,
        "tool": job.tool_id,
        "status": event["status"],
        "progress": event["progress"],
        "message": event.get("message"),
        "error": event.get("error"),
        "code": event.get("code"),
        "result": job.result if job.status == "completed" else None,
        "userId": job.user_id,
        "originalSize": job.bytes_in,
        "processedSize": job.bytes_out if job.status == "completed" else None,
        "createdAt": _iso(job.created_at),
        "startedAt": _iso(job.started_at),
        "finishedAt": _iso(job.finished_at),
    }
    if event.get("type") == "batch":
        view.update({k: event.get(k) for k in _BATCH_FIELDS})
    return view


@router.get("/api/v1/jobs/{job_id}", summary="A job's status, progress, timestamps, error and result")
async def get_job(job_id: str, request: Request, principal: CurrentUser) -> Any:
    """The state the progress stream would show now; `result` (with the download URLs) once completed."""
    job = await visible_job(job_id, principal)
    live = await job_service(request).bus.latest(job_id) if job.status not in TERMINAL else None
    return job_view(job, live)


def _page(
    principal: Principal, everyone: bool, status: str | None, tool: str | None, limit: int, after: str | None
) -> tuple[list[Job], str | None]:
    query = select(Job).where(Job.kind != "upload")
    if not everyone:
        query = query.where(Job.user_id == principal.user_id)
    if status is not None:
        query = query.where(Job.status.in_(_ROW_STATUSES[status]))
    if tool:
        query = query.where(Job.tool_id == tool)
    condition = cursor.older_than(after, Job.created_at, Job.id)
    if condition is not None:
        query = query.where(condition)
    with session_scope() as db:
        rows = list(db.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)))
    return cursor.page(rows, limit)


@router.get("/api/v1/jobs", summary="Your jobs, newest first, with a cursor for the next page")
async def list_jobs(
    request: Request,
    principal: CurrentUser,
    status: Annotated[Status | None, Query(description="Only jobs in this state")] = None,
    tool: Annotated[str | None, Query(max_length=64, description="Only this tool's jobs")] = None,
    limit: Annotated[int, Query(ge=1, le=cursor.MAX_LIMIT)] = cursor.DEFAULT_LIMIT,
    cursor_: Annotated[str | None, Query(alias="cursor", max_length=512)] = None,
    everyone: Annotated[bool, Query(alias="all", description="Every user's jobs (needs audit:read)")] = False,
) -> Any:
    """Answers `{"jobs": [...], "nextCursor"}`; pass `nextCursor` as `cursor` for the next page (null: no more)."""
    if everyone and not principal.has("audit:read"):
        raise Forbidden("Missing permission: audit:read")
    rows, next_cursor = await run_in_threadpool(_page, principal, everyone, status, tool, limit, cursor_)
    bus = job_service(request).bus
    jobs = [job_view(j, await bus.latest(j.id) if j.status not in TERMINAL else None) for j in rows]
    return {"jobs": jobs, "nextCursor": next_cursor}
