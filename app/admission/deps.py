"""Admission dependencies for routes that take an upload or start a job.

They run before the handler, so a refused request is answered before a byte of its body is read,
and they hold no database connection while the body streams (the handler opens its own, briefly).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select

from app.admission.disk import check_floor
from app.admission.early import TAKES_A_SLOT, slots_of
from app.admission.slots import UploadSlots, busy, too_many
from app.auth.principal import Principal
from app.config import get_settings
from app.db import session_scope
from app.deps import CurrentUser
from app.models import Job

UNFINISHED = ("queued", "processing")


def upload_slots(request: Request) -> UploadSlots:
    return slots_of(request.app)


def _unfinished_jobs(user_id: str) -> tuple[int, int]:
    """(the user's, everyone's) jobs not finished yet, counted in the database so every process agrees."""
    with session_scope() as db:
        # One query for both counts (a statement per count cost a second round trip on every job).
        mine, total = db.execute(
            select(func.count().filter(Job.user_id == user_id), func.count())
            .select_from(Job)
            .where(Job.status.in_(UNFINISHED))
        ).one()
    return mine or 0, total or 0


async def check_job_room(principal: Principal) -> None:
    settings = get_settings()
    mine, total = await run_in_threadpool(_unfinished_jobs, principal.user_id)
    if mine >= settings.queued_limit_per_user:
        raise too_many("unfinished jobs", settings.queued_limit_per_user, "MAX_QUEUED_JOBS_PER_USER")
    if total >= settings.queued_limit_total:
        raise busy("unfinished jobs", settings.queued_limit_total, "MAX_QUEUED_JOBS")


@asynccontextmanager
async def _upload_slot(request: Request, principal: Principal) -> AsyncIterator[None]:
    settings = get_settings()
    slots = upload_slots(request)
    slots.acquire(principal.user_id, settings.upload_limit_per_user, settings.upload_limit_total)
    try:
        yield
    finally:
        slots.release(principal.user_id)


async def admit_upload(request: Request, principal: CurrentUser) -> AsyncIterator[None]:
    """Holds one upload slot while the route streams its body: 507 / 429 / 503 before reading it."""
    check_floor(get_settings())
    async with _upload_slot(request, principal):
        yield


@asynccontextmanager
async def job_admitted(request: Request, principal: Principal) -> AsyncIterator[None]:
    """The free-disk floor, a place for one more job within MAX_QUEUED_JOBS(_PER_USER), an upload slot."""
    check_floor(get_settings())
    await check_job_room(principal)
    async with _upload_slot(request, principal):
        yield


async def admit_job(request: Request, principal: CurrentUser) -> AsyncIterator[None]:
    """admit_upload, and a place for one more job within MAX_QUEUED_JOBS(_PER_USER)."""
    async with job_admitted(request, principal):
        yield


TAKES_A_SLOT.update({admit_upload, admit_job})
# For add_api_route(dependencies=...) and route decorators; scope="function" releases the slot when
# the handler returns, not after the answer has been sent.
UPLOAD_ADMISSION: Any = Depends(admit_upload, scope="function")
JOB_ADMISSION: Any = Depends(admit_job, scope="function")
