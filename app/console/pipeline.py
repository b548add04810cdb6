"""`lutra pipeline run <saved-id|file.json> INPUT...`: a chain of tools, in-process or on a remote server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.config import get_settings
from app.console.common import CommandError, Inputs
from app.console.local import check_settings, find_tool, run_steps
from app.console.remote import Remote
from app.engine.spec import Step
from app.engine.tool import Tool


def _steps_of(document: Any, source: str) -> list[dict[str, Any]]:
    """A pipeline file is the API's body ({"steps": [...]}), a saved pipeline's JSON, or the bare list."""
    steps = document.get("steps") if isinstance(document, dict) else document
    if not isinstance(steps, list) or not steps:
        raise CommandError(f'{source}: expected {{"steps": [{{"toolId": ..., "settings": {{...}}}}, ...]}}')
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict) or not isinstance(step.get("toolId"), str):
            raise CommandError(f"{source}: step {number} needs a toolId")
        if not isinstance(step.get("settings", {}), dict):
            raise CommandError(f"{source}: step {number}'s settings must be an object")
    return steps


def _read_file(path: Path) -> list[dict[str, Any]]:
    try:
        return _steps_of(json.loads(path.read_text()), str(path))
    except ValueError as exc:
        raise CommandError(f"{path}: not valid JSON ({exc})") from exc


def _saved_locally(pipeline_id: str) -> list[dict[str, Any]]:
    """A saved pipeline from this installation's database (DATABASE_URL / DATA_DIR)."""
    from app.db import init_engine, session_scope
    from app.models import Pipeline

    init_engine(get_settings().sqlalchemy_url)
    with session_scope() as db:
        row = db.get(Pipeline, pipeline_id)
        if row is None:
            raise CommandError(f"no saved pipeline {pipeline_id!r} (and no such file)")
        return _steps_of(list(row.steps), pipeline_id)


def _saved_remotely(remote: Remote, pipeline_id: str) -> list[dict[str, Any]]:
    for saved in remote.checked("GET", "/api/v1/pipeline/list").json()["pipelines"]:
        if saved["id"] == pipeline_id:
            return _steps_of(saved["steps"], pipeline_id)
    raise CommandError(f"no saved pipeline {pipeline_id!r} on {remote.url} (and no such file)")


def _checked_steps(steps: list[dict[str, Any]]) -> tuple[list[Step], list[Tool]]:
    """Every step validated before anything runs; errors name the step, as the API's do."""
    from app.pipelines.routes import pipeline_usable

    checked: list[Step] = []
    tools: list[Tool] = []
    for number, step in enumerate(steps, start=1):
        label = f"Step {number} ({step['toolId'][:64]}): "
        try:
            tool = find_tool(step["toolId"])
        except CommandError as exc:
            raise CommandError(label + exc.message) from exc
        if not pipeline_usable(tool):
            raise CommandError(label + "this tool can't be a pipeline step")
        checked.append(Step(tool.id, check_settings(tool, step.get("settings", {}), prefix=label)))
        tools.append(tool)
    return checked, tools


async def run_local(source: str, inputs: Inputs, output: str | None, *, as_json: bool) -> int:
    path = Path(source)
    steps = _read_file(path) if path.is_file() else _saved_locally(source)
    checked, tools = _checked_steps(steps)
    settings = get_settings()
    if settings.max_pipeline_steps and len(checked) > settings.max_pipeline_steps:
        raise CommandError(f"pipeline exceeds maximum steps ({settings.max_pipeline_steps}, see MAX_PIPELINE_STEPS)")
    timeout = sum(t.timeout_s or settings.job_timeout_s for t in tools)
    return await run_steps(checked, tools[0], "pipeline", inputs, output, as_json=as_json, timeout_s=timeout)


def run_remote(remote: Remote, source: str, inputs: Inputs, output: str | None, *, as_json: bool) -> int:
    path = Path(source)
    steps = _read_file(path) if path.is_file() else _saved_remotely(remote, source)
    batch = inputs.expanded or len(inputs.files) > 1
    return remote.run(
        {"id": "pipeline"},
        {"steps": steps},
        inputs,
        output,
        batch=batch,
        as_json=as_json,
        path="/api/v1/pipeline/execute",
        batch_path="/api/v1/pipeline/batch",
        form_field="pipeline",
    )
