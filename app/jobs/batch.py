"""Batch runs: many files through one tool (or pipeline), answered as one streamed ZIP."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from zipstream import ZipStream

from app.auth.principal import Principal
from app.engine.spec import InputRef, Step
from app.engine.tool import Tool
from app.errors import LutraError
from app.jobs.access import job_service
from app.jobs.batch_intake import BatchIntake
from app.jobs.events import batch_event
from app.jobs.service import CheckedInputs, JobService, download_url

log = logging.getLogger("lutra.jobs")


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
        elif await service.cancel_requested(batch_id):
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
    intake: BatchIntake | None = None,
) -> Response:
    """Runs the batch and answers the ZIP; with ?async=true answers 202 {jobId} at once and the ZIP
    becomes the job's result (its downloadUrl) when done."""
    try:
        await service.runner.ensure_workers()  # scaled mode: 503 NO_WORKERS rather than a hang
    except BaseException:
        shutil.rmtree(service.workspace(batch_id), ignore_errors=True)
        raise
    if intake is not None and intake.created:
        await service.describe(batch_id, {"steps": values}, checked.total_bytes)
    else:
        await service.create(batch_id, principal.user_id, "batch", row_tool, {"steps": values}, checked.total_bytes)
    total = len(checked.inputs)
    service.bus.publish(batch_id, batch_event(batch_id, "processing", total, 0, 0, None))
    if request.query_params.get("async", "").lower() in ("true", "1"):
        service.run_in_background(_zip_in_background(service, batch_id, label, steps, checked, timeout_s, intake))
        return JSONResponse({"jobId": batch_id, "async": True}, status_code=202)
    try:
        zip_stream, summary = await _run_and_zip(service, batch_id, steps, checked, timeout_s)
    finally:
        if intake is not None:
            intake.upload_done()
    if not summary["fileResults"]:
        raise _all_failed(summary)
    summary["processedSize"] = len(zip_stream)
    await service.finish_batch(batch_id, summary, bytes_out=len(zip_stream))
    headers = {
        "Content-Disposition": f'attachment; filename="{_zip_name(label, batch_id)}"',
        "X-Job-Id": batch_id,
        "X-File-Results": quote(json.dumps(summary["fileResults"], separators=(",", ":"))),
        "X-File-Errors": quote(json.dumps(summary["errors"], separators=(",", ":"))),
        "Content-Length": str(len(zip_stream)),
        "Access-Control-Expose-Headers": "X-Job-Id, X-File-Results, X-File-Errors",
    }
    return StreamingResponse(iter(zip_stream), media_type="application/zip", headers=headers)


def _zip_name(label: str, batch_id: str) -> str:
    return f"batch-{label}-{batch_id[:8]}.zip"


def _all_failed(summary: dict[str, Any]) -> LutraError:
    errors = list(summary["errors"].values())
    return LutraError("All files failed processing", status=422, code="BATCH_FAILED", details={"errors": errors})


async def _run_and_zip(
    service: JobService, batch_id: str, steps: list[Step], checked: CheckedInputs, timeout_s: float | None
) -> tuple[ZipStream, dict[str, Any]]:
    """Runs every file; answers the ZIP of the outputs (not yet read) and the summary. All failed: the job
    fails; nothing done because it was cancelled (on any node): it ends canceled."""
    try:
        results = await process_batch(service, batch_id, steps, checked, timeout_s)
        cancelled = await service.cancel_requested(batch_id)
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
    if not file_results and cancelled:
        await service.finish_failed(batch_id, "Canceled", summary, status="canceled")
    elif not file_results:
        await service.finish_failed(batch_id, "All files failed processing", summary)
    return zip_stream, summary


def _write_zip(zip_stream: ZipStream, path: Path) -> int:
    """Writes under a hidden temporary name and renames at the end: a crash never leaves half a ZIP
    under the name the job's result points to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with tmp.open("wb") as out:
            for chunk in zip_stream:
                out.write(chunk)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.stat().st_size


async def _zip_in_background(
    service: JobService,
    batch_id: str,
    label: str,
    steps: list[Step],
    checked: CheckedInputs,
    timeout_s: float | None,
    intake: BatchIntake | None,
) -> None:
    """?async=true: the ZIP is written into the job's outputs and its download URL is the job's result."""
    try:
        zip_stream, summary = await _run_and_zip(service, batch_id, steps, checked, timeout_s)
        if not summary["fileResults"]:
            return
        name = _zip_name(label, batch_id)
        size = await run_in_threadpool(_write_zip, zip_stream, service.output_dir(batch_id) / name)
        summary |= {"downloadUrl": download_url(batch_id, name), "processedSize": size}
        await service.finish_batch(batch_id, summary, bytes_out=size)
    except Exception as exc:
        log.exception("batch %s failed", batch_id)
        await service.finish_failed(batch_id, "The batch failed unexpectedly", {"code": type(exc).__name__})
    finally:
        if intake is not None:
            intake.upload_done()


async def run_batch(request: Request, principal: Principal, tool: Tool) -> Response:
    from app.jobs.tool_routes import receive_tool_request

    service = job_service(request)
    intake = BatchIntake(service, principal.user_id, tool)
    try:
        values, checked = await receive_tool_request(
            request, service, tool, intake.upload_id, batch=True, on_field=intake.on_field
        )
    except BaseException as exc:
        await intake.refused(exc)
        raise
    assert checked is not None
    steps = [Step(tool.id, values)]
    return await respond_with_zip(
        request, principal, service, intake.job_id, tool.id, steps, checked, tool.timeout_s, tool, values, intake
    )
