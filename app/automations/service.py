"""Automations in the database: validation of what a user asks for, views, plans, and claiming files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.automations.paths import check_output_not_in_source, resolve_in_root
from app.automations.processor import Plan
from app.automations.schemas import AutomationBody, AutomationPatch
from app.config import Settings
from app.db import session_scope
from app.engine import registry
from app.engine.spec import Step
from app.errors import BadRequest, NotFound
from app.models import Automation, AutomationRun, Pipeline
from app.pipelines.routes import StepBody, check_steps


def visible_pipeline(db: Session, pipeline_id: str, principal: Principal) -> Pipeline:
    row = db.get(Pipeline, pipeline_id)
    if row is None or (row.user_id != principal.user_id and not principal.has("pipelines:all")):
        raise NotFound("Pipeline not found", code="PIPELINE_NOT_FOUND")
    return row


async def checked_values(
    body: AutomationBody | AutomationPatch, current: Automation | None, settings: Settings, pipeline: Pipeline | None
) -> dict[str, Any]:
    """Column values for what the body sets, after every check (paths, steps, schedule)."""
    root = settings.watch_root_path
    values: dict[str, Any] = {}
    if body.name is not None:
        values["name"] = body.name.strip()
    source = resolve_in_root(root, body.source.path, "source.path") if body.source else None
    output = resolve_in_root(root, body.output.path, "output.path") if body.output else None
    effective_source = source or (Path(current.source_path) if current else None)
    effective_output = output or (Path(current.output_path) if current else None)
    if effective_source is not None and effective_output is not None:
        check_output_not_in_source(effective_source, effective_output)
    if source is not None:
        values["source_path"] = str(source)
    if body.output is not None:
        values.update(output_path=str(output), naming=body.output.naming, on_conflict=body.output.onConflict)
    if body.steps is not None:
        steps, _ = await check_steps(body.steps, settings.max_pipeline_steps)
        values.update(steps=[{"toolId": s.tool_id, "settings": s.settings} for s in steps], pipeline_id=None)
    if pipeline is not None:
        steps_body = [StepBody.model_validate(s) for s in pipeline.steps]
        await check_steps(steps_body, settings.max_pipeline_steps)
        values.update(pipeline_id=pipeline.id, steps=None)
    if body.afterSuccess is not None:
        values["after_success"] = body.afterSuccess
    if body.filter is not None:
        values.update(globs=body.filter.globs, min_age_s=body.filter.minAgeSeconds)
    if body.trigger is not None:
        values["trigger"] = body.trigger
    if body.schedule is not None:
        values["schedule"] = body.schedule
    trigger = values.get("trigger", current.trigger if current else "watch")
    schedule = values.get("schedule", current.schedule if current else None)
    if trigger == "schedule" and not schedule:
        raise BadRequest("trigger 'schedule' needs a cron expression in schedule", code="SCHEDULE_REQUIRED")
    if body.enabled is not None:
        values["enabled"] = body.enabled
        if body.enabled:
            values["disabled_reason"] = None
    return values


def make_folders(values: dict[str, Any]) -> None:
    for key in ("source_path", "output_path"):
        if key in values:
            Path(values[key]).mkdir(parents=True, exist_ok=True)


def next_fire(automation: Automation, now: datetime) -> datetime | None:
    if automation.trigger != "schedule" or not automation.schedule:
        return None
    from croniter import croniter

    base = automation.last_fired_at or automation.created_at or now
    return croniter(automation.schedule, base).get_next(datetime).astimezone(UTC)


def view(a: Automation, now: datetime | None = None) -> dict[str, Any]:
    upcoming = next_fire(a, now or datetime.now(UTC)) if a.enabled else None
    return {
        "id": a.id,
        "name": a.name,
        "userId": a.user_id,
        "source": {"type": "folder", "path": a.source_path},
        "pipelineId": a.pipeline_id,
        "steps": a.steps,
        "output": {"path": a.output_path, "naming": a.naming, "onConflict": a.on_conflict},
        "afterSuccess": a.after_success,
        "filter": {"globs": a.globs, "minAgeSeconds": a.min_age_s},
        "trigger": a.trigger,
        "schedule": a.schedule,
        "enabled": a.enabled,
        "disabledReason": a.disabled_reason,
        "nextRunAt": upcoming.isoformat() if upcoming else None,
        "createdAt": a.created_at.isoformat(),
        "updatedAt": a.updated_at.isoformat(),
    }


def run_view(r: AutomationRun) -> dict[str, Any]:
    took = (r.finished_at - r.started_at).total_seconds() if r.started_at and r.finished_at else None
    return {
        "id": r.id,
        "input": r.input_name,
        "size": r.input_size,
        "status": r.status,
        "jobId": r.job_id,
        "outputs": r.outputs,
        "outputPath": r.outputs[0] if r.outputs else None,
        "error": r.error,
        "createdAt": r.created_at.isoformat(),
        "startedAt": r.started_at.isoformat() if r.started_at else None,
        "finishedAt": r.finished_at.isoformat() if r.finished_at else None,
        "durationSeconds": round(took, 3) if took is not None else None,
    }


def plan_for(db: Session, a: Automation) -> Plan | str:
    """What to run for this automation, or why it can't run any more."""
    if a.user_id is None:
        return "Its owner was deleted"
    raw_steps = a.steps
    if a.pipeline_id is not None:
        pipeline = db.get(Pipeline, a.pipeline_id)
        raw_steps = pipeline.steps if pipeline is not None else None
    if not raw_steps:
        return "Its saved pipeline was deleted"
    steps, tools = [], []
    for raw in raw_steps:
        tool = registry.get(raw["toolId"])
        if tool is None:
            return f"Tool {raw['toolId']!r} is no longer available"
        steps.append(Step(tool.id, dict(raw.get("settings") or {})))
        tools.append(tool)
    return Plan(
        id=a.id,
        user_id=a.user_id,
        source=Path(a.source_path),
        output=Path(a.output_path),
        naming=a.naming,
        on_conflict=a.on_conflict,
        after_success=a.after_success,
        steps=tuple(steps),
        tools=tuple(tools),
    )


@dataclass(frozen=True)
class Seen:
    name: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Claimed:
    run_id: str
    name: str


def claim(automation_id: str, files: list[Seen]) -> tuple[list[Claimed], list[AutomationRun]]:
    """Records the files as taken; returns the newly claimed ones and the earlier runs of the others.

    The unique key (automation, name, size, mtime) decides: across nodes and restarts a file version is
    taken exactly once, while a new file under an old name is a new input."""
    if not files:
        return [], []
    claimed: list[Claimed] = []
    earlier: list[AutomationRun] = []
    with session_scope() as db:
        existing = {
            (r.input_name, r.input_size, r.input_mtime_ns): r
            for r in db.scalars(
                select(AutomationRun).where(
                    AutomationRun.automation_id == automation_id,
                    AutomationRun.input_name.in_([f.name for f in files]),
                )
            )
        }
        for f in files:
            old = existing.get((f.name, f.size, f.mtime_ns))
            if old is not None:
                earlier.append(old)
                continue
            run = AutomationRun(
                automation_id=automation_id,
                input_name=f.name,
                input_size=f.size,
                input_mtime_ns=f.mtime_ns,
                status="queued",
                outputs=[],
            )
            try:
                with db.begin_nested():
                    db.add(run)
            except IntegrityError:
                continue  # another node took it between our read and our write
            claimed.append(Claimed(run.id, f.name))
    return claimed, earlier
