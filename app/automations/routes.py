"""/api/v1/automations: watch folders and scheduled pipelines (permission automations:manage)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import and_, or_, select

from app.audit.service import record
from app.auth.principal import Principal
from app.automations import service
from app.automations.schemas import AutomationBody, AutomationPatch
from app.automations.watcher import AutomationManager
from app.config import get_settings
from app.db import session_scope
from app.deps import SessionDep, require
from app.errors import BadRequest, NotFound
from app.models import Automation, AutomationRun

router = APIRouter(prefix="/api/v1/automations", tags=["automations"])
Manager = Annotated[Principal, Depends(require("automations:manage"))]


def manager(request: Request) -> AutomationManager:
    return request.app.state.automations


def _owned(db: Any, automation_id: str, principal: Principal) -> Automation:
    row = db.get(Automation, automation_id[:64])
    # Others' automations are invisible (404), except to user administrators.
    if row is None or (row.user_id != principal.user_id and not principal.has("users:manage")):
        raise NotFound("Automation not found", code="AUTOMATION_NOT_FOUND")
    return row


def _audit(db: Any, principal: Principal, action: str, row: Automation, details: dict[str, Any]) -> None:
    record(
        db,
        action,
        actor_id=principal.user_id,
        actor_username=principal.username,
        target_type="automation",
        target_id=row.id,
        details=details,
    )


def _pipeline(pipeline_id: str | None, principal: Principal) -> Any:
    if pipeline_id is None:
        return None
    with session_scope() as db:
        return service.visible_pipeline(db, pipeline_id, principal)


@router.post("", status_code=201, summary="Create an automation (a watched folder or a schedule)")
async def create(body: AutomationBody, request: Request, principal: Manager) -> Any:
    pipeline = await run_in_threadpool(_pipeline, body.pipelineId, principal)
    values = await service.checked_values(body, None, get_settings(), pipeline)
    await run_in_threadpool(service.make_folders, values)

    def store() -> dict[str, Any]:
        with session_scope() as db:
            row = Automation(user_id=principal.user_id, **values)
            db.add(row)
            db.flush()
            _audit(db, principal, "AUTOMATION_CREATED", row, {"name": row.name})
            return service.view(row)

    result = await run_in_threadpool(store)
    manager(request).wake()
    return result


@router.get("", summary="Your automations (user administrators see everyone's)")
def list_automations(principal: Manager, db: SessionDep) -> Any:
    stmt = select(Automation).order_by(Automation.created_at.desc())
    if not principal.has("users:manage"):
        stmt = stmt.where(Automation.user_id == principal.user_id)
    return {"automations": [service.view(a) for a in db.scalars(stmt)]}


@router.get("/{automation_id}", summary="One automation")
def get_automation(automation_id: str, principal: Manager, db: SessionDep) -> Any:
    return service.view(_owned(db, automation_id, principal))


@router.patch("/{automation_id}", summary="Change an automation; `enabled: false` pauses it")
async def patch_automation(automation_id: str, body: AutomationPatch, request: Request, principal: Manager) -> Any:
    def load() -> Automation:
        with session_scope() as db:
            row = _owned(db, automation_id, principal)
            db.expunge(row)
            return row

    current = await run_in_threadpool(load)
    pipeline = await run_in_threadpool(_pipeline, body.pipelineId, principal)
    values = await service.checked_values(body, current, get_settings(), pipeline)
    await run_in_threadpool(service.make_folders, values)

    def store() -> dict[str, Any]:
        with session_scope() as db:
            row = _owned(db, automation_id, principal)
            for key, value in values.items():
                setattr(row, key, value)
            _audit(db, principal, "AUTOMATION_UPDATED", row, {"fields": sorted(values)})
            db.flush()
            return service.view(row)

    result = await run_in_threadpool(store)
    manager(request).wake()
    return result


@router.delete("/{automation_id}", summary="Delete an automation (its folders and files stay)")
def delete_automation(automation_id: str, request: Request, principal: Manager, db: SessionDep) -> Any:
    row = _owned(db, automation_id, principal)
    _audit(db, principal, "AUTOMATION_DELETED", row, {"name": row.name})
    db.delete(row)
    manager(request).wake()
    return {"ok": True}


@router.post("/{automation_id}/run", status_code=202, summary="Process the files in its folder now")
async def run_now(automation_id: str, request: Request, principal: Manager) -> Any:
    def check() -> bool:
        with session_scope() as db:
            return _owned(db, automation_id, principal).enabled

    if not await run_in_threadpool(check):
        raise BadRequest("This automation is paused; enable it first", code="AUTOMATION_DISABLED")
    taken = await manager(request).run_now(automation_id)
    return {"automationId": automation_id, "filesTaken": taken}


def _cursor(run: AutomationRun) -> str:
    raw = f"{run.created_at.isoformat()}|{run.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, run_id = raw.split("|", 1)
        return datetime.fromisoformat(stamp), run_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("Invalid cursor", code="INVALID_CURSOR") from exc


@router.get("/{automation_id}/runs", summary="The files an automation took, newest first")
def list_runs(
    automation_id: str,
    principal: Manager,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    _owned(db, automation_id, principal)
    stmt = select(AutomationRun).where(AutomationRun.automation_id == automation_id)
    if cursor:
        stamp, run_id = _parse_cursor(cursor)
        stmt = stmt.where(
            or_(
                AutomationRun.created_at < stamp,
                and_(AutomationRun.created_at == stamp, AutomationRun.id < run_id),
            )
        )
    rows = list(db.scalars(stmt.order_by(AutomationRun.created_at.desc(), AutomationRun.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    return {
        "runs": [service.run_view(r) for r in page],
        "nextCursor": _cursor(page[-1]) if len(rows) > limit else None,
    }
