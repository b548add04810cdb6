"""Who may see a job: its owner, or anyone holding files:all. Others get 404, not 403."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from app.auth.principal import Principal
from app.errors import BadRequest, NotFound
from app.jobs.service import JobService, load_job
from app.models import Job

_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def job_service(request: Request) -> JobService:
    return request.app.state.jobs


def check_path_part(value: str) -> None:
    if not value or ".." in value or "/" in value or "\\" in value or "\x00" in value:
        raise BadRequest("Invalid path", code="INVALID_PATH")


def check_job_id(job_id: str) -> None:
    check_path_part(job_id)
    if not _JOB_ID.match(job_id):
        raise NotFound("Job not found")


def may_see(job: Job | None, principal: Principal) -> bool:
    return job is not None and (job.user_id == principal.user_id or principal.has("files:all"))


async def visible_job(job_id: str, principal: Principal) -> Job:
    check_job_id(job_id)
    job = await run_in_threadpool(load_job, job_id)
    if job is None or not may_see(job, principal):
        raise NotFound("Job not found")
    return job
