"""Runs one tool for an MCP call through the job service: a job row, the runner, progress, cancel.

The job runs in its own task, so a client that cancels (or drops the connection) stops waiting at
once while the job itself is cancelled through the service and still records how it ended.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.auth.principal import Principal
from app.engine.spec import Outcome, Step
from app.engine.tool import Tool
from app.jobs.events import TERMINAL
from app.jobs.service import JobService
from app.jobs.tool_routes import outcome_error, refused_input, save_to_library
from app.mcp.inputs import stage_call

Progress = Callable[[float, str | None], Awaitable[None]]
_running: set[asyncio.Task[Any]] = set()  # strong references: the loop keeps only weak ones


@dataclass
class CallResult:
    body: dict[str, Any]
    outputs: list[Path] = field(default_factory=list)


async def run_call(
    service: JobService,
    principal: Principal,
    tool: Tool,
    arguments: dict[str, Any],
    origin: str,
    progress: Progress,
) -> CallResult:
    """The tool's JSON answer (as the REST route gives it) and its output files; LutraError on failure."""
    job_id = service.new_id()
    try:
        values, checked = await stage_call(service, principal, tool, job_id, arguments, origin)
    except BaseException:
        shutil.rmtree(service.workspace(job_id), ignore_errors=True)
        raise
    # A fast job's row is written once, with its result, as over REST (JobService.create).
    await service.create(job_id, principal.user_id, "tool", tool, values, checked.total_bytes, deferred=not tool.long)
    spec = service.spec(job_id, [Step(tool.id, values)], checked, tool.timeout_s)

    async def execute() -> tuple[Outcome, dict[str, Any] | None]:
        try:
            outcome = await service.run_spec(spec, persist_start=tool.long)
            if outcome.input_refused:
                raise refused_input(service, job_id, outcome)
            extra = None
            if checked.library_file_id and outcome.status == "completed" and outcome.outputs:
                extra = await save_to_library(principal, service, checked.library_file_id, outcome, job_id, tool.id)
            return outcome, await service.finish(job_id, outcome, checked.total_bytes, extra)
        finally:
            service.abandon(job_id)

    events = service.bus.subscribe(job_id)
    task = asyncio.ensure_future(execute())
    _running.add(task)
    task.add_done_callback(_running.discard)
    getter: asyncio.Future[dict[str, Any]] | None = None
    last = -1.0
    try:
        while True:
            getter = getter or asyncio.ensure_future(events.get())
            done, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                event, getter = getter.result(), None
                if event.get("status") not in TERMINAL and event["progress"] != last:
                    last = event["progress"]
                    await progress(float(last), event.get("message"))
            if task in done:
                break
    except BaseException:
        # The client cancelled the request (or went away): stop the job; it records itself as canceled.
        if not task.done():
            service.cancel(job_id)
        raise
    finally:
        if getter is not None:
            getter.cancel()
        service.bus.unsubscribe(job_id, events)
    outcome, body = task.result()
    if body is None:
        raise outcome_error(outcome)
    return CallResult(body, [Path(p) for p in outcome.outputs])
