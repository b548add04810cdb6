"""Batch runs: many files through one tool (or pipeline), answered as one streamed ZIP."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import StreamingResponse
from zipstream import ZipStream

from app.auth.principal import Principal
from app.engine.spec import InputRef, Step
from app.engine.tool import Tool
from app.errors import LutraError
from app.jobs.access import job_service
from app.jobs.events import make_event
from app.jobs.service import CheckedInputs, JobService

_CLIENT_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


def unique_name(name: str, taken: set[str]) -> str:
    """a.jpg, a_1.jpg, a_2.jpg ... so no ZIP entry overwrites another."""
    if name not in taken:
        taken.add(name)
        return name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while f"{stem}_{n}{suffix}" in taken:
        n += 1
    taken.add(f"{stem}_{n}{suffix}")
    return f"{stem}_{n}{suffix}"


def batch_event(
    job_id: str, status: str, total: int, done: int, failed: int, current: str | None, **extra: Any
) -> dict[str, Any]:
    pct = 100.0 * done / total if total else 100.0
    event = make_event(job_id, status, pct, f"{done}/{total} files" + (f" ({current})" if current else ""), **extra)
    event.update(
        {
            "type": "batch",
            "totalFiles": total,
            "completedFiles": done - failed,
            "failedFiles": failed,
            "currentFile": current,
        }
    )
    return event


async def process_batch(
    service: JobService, batch_id: str, steps: list[Step], checked: CheckedInputs, timeout_s: float | None
) -> list[dict[str, Any]]:
    """Runs every file as its own runner job (bounded by the runner); returns per-file results in order."""
    inputs = checked.inputs
    total = len(inputs)
    results: list[dict[str, Any]] = [{} for _ in inputs]
    counters = {"done": 0, "failed": 0}
    next_index = iter(range(total))

    async def one(i: int, ref: InputRef) -> None:
        child = f"{batch_id}.{i}"
        service.add_child(batch_id, child)
        if i in checked.rejected:
            results[i] = {"file": ref.name, "error": checked.rejected[i][1]}
        elif service.is_cancelled(batch_id):
            results[i] = {"file": ref.name, "error": "Canceled"}
        else:
            spec = service.spec(
                child,
                steps,
                CheckedInputs([ref], checked.extra),
                timeout_s,
                workdir=service.workspace(batch_id) / "work" / str(i),
            )
            outcome = await service.run_spec(spec, report=False)
            if outcome.status == "completed":
                results[i] = {"file": ref.name, "outputs": outcome.outputs}
            else:
                results[i] = {"file": ref.name, "error": outcome.error or "Processing failed"}
        counters["done"] += 1
        if "error" in results[i]:
            counters["failed"] += 1
        service.bus.publish(
            batch_id, batch_event(batch_id, "processing", total, counters["done"], counters["failed"], ref.name)
        )

    async def consumer() -> None:
        for i in next_index:
            await one(i, inputs[i])

    # As many consumers as the runner has slots: enough to keep it busy, and memory stays flat.
    await asyncio.gather(*(consumer() for _ in range(max(1, min(service.runner.concurrency, total)))))
    return results


async def respond_with_zip(
    request: Request,
    principal: Principal,
    service: JobService,
    batch_id: str,
    label: str,
    steps: list[Step],
    checked: CheckedInputs,
    timeout_s: float | None,
    row_tool: Tool | None,
    values: Any,
) -> StreamingResponse:
    try:
        await service.runner.ensure_workers()
    except BaseException:
        shutil.rmtree(service.workspace(batch_id), ignore_errors=True)
        raise
    await service.create(batch_id, principal.user_id, "batch", row_tool, {"steps": values}, checked.total_bytes)
    try:
        results = await process_batch(service, batch_id, steps, checked, timeout_s)
    finally:
        service.forget(batch_id)
    zip_stream = ZipStream(sized=True)
    taken: set[str] = set()
    file_results: dict[str, str] = {}
    errors: dict[str, dict[str, str]] = {}
    for i, result in enumerate(results):
        if "error" in result:
            errors[str(i)] = {"filename": result["file"], "error": result["error"]}
            continue
        for output in result["outputs"]:
            arcname = unique_name(Path(output).name, taken)
            zip_stream.add_path(output, arcname)
            file_results.setdefault(str(i), arcname)
    total = len(results)
    summary = {"fileResults": file_results, "errors": errors, "totalFiles": total, "failedFiles": len(errors)}
    if not file_results:
        await service.finish_failed(batch_id, "All files failed processing", summary)
        raise LutraError(
            "All files failed processing", status=422, code="BATCH_FAILED", details={"errors": list(errors.values())}
        )
    await service.finish_batch(batch_id, summary)
    service.bus.publish(batch_id, batch_event(batch_id, "completed", total, total, len(errors), None, result=summary))
    headers = {
        "Content-Disposition": f'attachment; filename="batch-{label}-{batch_id[:8]}.zip"',
        "X-Job-Id": batch_id,
        "X-File-Results": quote(json.dumps(file_results, separators=(",", ":"))),
        "X-File-Errors": quote(json.dumps(errors, separators=(",", ":"))),
        "Content-Length": str(len(zip_stream)),
        "Access-Control-Expose-Headers": "X-Job-Id, X-File-Results, X-File-Errors",
    }
    return StreamingResponse(iter(zip_stream), media_type="application/zip", headers=headers)


async def run_batch(request: Request, principal: Principal, tool: Tool) -> StreamingResponse:
    from app.jobs.tool_routes import receive_tool_request

    service = job_service(request)
    batch_id = service.new_id()
    try:
        values, checked = await receive_tool_request(request, service, tool, batch_id, batch=True)
    except BaseException:
        shutil.rmtree(service.workspace(batch_id), ignore_errors=True)
        raise
    assert checked is not None
    return await respond_with_zip(
        request, principal, service, batch_id, tool.id, [Step(tool.id, values)], checked, tool.timeout_s, tool, values
    )
