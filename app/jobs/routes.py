"""Job progress (SSE), cancellation and result downloads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from app.deps import CurrentUser
from app.engine.media.sniff import mime_for, sniff_file
from app.errors import BadRequest, Conflict, LutraError, NotFound
from app.jobs.access import check_path_part, job_service, visible_job
from app.jobs.events import TERMINAL, make_event
from app.models import Job

router = APIRouter(tags=["jobs"])
HEARTBEAT_S = 15.0


def _terminal_event(job: Job) -> dict[str, Any]:
    if job.status == "completed":
        return make_event(job.id, "completed", 100, "Done", result=job.result)
    code = (job.result or {}).get("code") if isinstance(job.result, dict) else None
    return make_event(job.id, job.status, 0, None, error=job.error or job.status.capitalize(), code=code)


def _frame(event: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


@router.get("/api/v1/jobs/{job_id}/progress", summary="Server-sent progress events for a job")
async def progress(job_id: str, request: Request, principal: CurrentUser) -> StreamingResponse:
    service = job_service(request)
    # Subscribe before reading the row, so an event published in between is not lost.
    queue = service.bus.subscribe(job_id)
    try:
        job = await visible_job(job_id, principal)
    except Exception:
        service.bus.unsubscribe(job_id, queue)
        raise

    async def stream() -> AsyncIterator[bytes]:
        try:
            if job.status in TERMINAL:
                yield _frame(_terminal_event(job))
                return
            current = service.bus.latest(job_id) or make_event(job_id, job.status, job.progress, job.message)
            yield _frame(current)
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": heartbeat\n\n"
                    continue
                yield _frame(event)
                if event.get("status") in TERMINAL:
                    return
        finally:
            service.bus.unsubscribe(job_id, queue)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.post("/api/v1/jobs/{job_id}/cancel", summary="Stop a queued or running job")
async def cancel(job_id: str, request: Request, principal: CurrentUser) -> Any:
    job = await visible_job(job_id, principal)
    if job.status in TERMINAL:
        return {"canceled": False, "status": job.status}
    job_service(request).cancel(job_id)
    return {"canceled": True}


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def check_range(header: str | None, size: int) -> None:
    """Refuses a Range header FileResponse would refuse, but in the shared error shape (its own
    400/416 answers are plain text)."""
    if header is None:
        return
    try:
        FileResponse._parse_range_header(header, size)
    except MalformedRangeHeader as exc:
        raise BadRequest("Invalid Range header", code="INVALID_RANGE") from exc
    except RangeNotSatisfiable as exc:
        raise LutraError(
            "Requested range not satisfiable",
            status=416,
            code="RANGE_NOT_SATISFIABLE",
            headers={"Content-Range": f"bytes */{size}"},
        ) from exc


@router.get("/api/v1/download/{job_id}/{filename:path}", summary="Download a job's output (supports Range)")
async def download(job_id: str, filename: str, request: Request, principal: CurrentUser) -> FileResponse:
    check_path_part(job_id)
    check_path_part(filename)
    job = await visible_job(job_id, principal)
    if job.status != "completed":
        # A failed, cancelled or interrupted job may have left a partial file: never serve it.
        raise Conflict(f"Job is {job.status}; its outputs are not available", code="JOB_NOT_COMPLETED")
    path = job_service(request).output_dir(job_id) / filename
    if not path.is_file():
        raise NotFound("File not found")
    check_range(request.headers.get("range"), path.stat().st_size)
    media_type = (
        mime_for(sniff_file(path) or "") if path.suffix.lower() not in _TEXT_TYPES else _TEXT_TYPES[path.suffix.lower()]
    )
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            # Outputs are user content: if opened directly (an SVG, say), nothing in them may run.
            "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
        },
    )


_TEXT_TYPES = {
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/plain; charset=utf-8",  # never render user content as a page on our origin
    ".xml": "application/xml",
    ".yaml": "application/yaml",
    ".svg": "image/svg+xml",
    ".zip": "application/zip",
}
