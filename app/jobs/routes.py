"""Job progress (SSE), cancellation and result downloads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from app.auth.principal import Principal
from app.auth.signed_urls import verify_download
from app.deps import CurrentUser, signed_link_or_user
from app.engine.media.sniff import DEEPER_SNIFF, HEAD_BYTES, mime_for, sniff_bytes, sniff_file
from app.errors import BadRequest, Conflict, LutraError, NotFound
from app.file_response import ReadyFile, ReadyFileResponse, ready_file
from app.jobs.access import check_job_id, check_path_part, job_service, may_see, visible_job
from app.jobs.events import (
    EVENT_NAMES,
    TERMINAL,
    batch_event,
    final_event,
    make_event,
    seq_at,
    split_seq,
)
from app.jobs.service import load_job
from app.models import Job

router = APIRouter(tags=["jobs"])
HEARTBEAT_S = 15.0


def terminal_event(job: Job) -> dict[str, Any]:
    """A finished job's last frame, rebuilt from its row (numbered by its finished_at, as it was live)."""
    return final_event(job.id, job.status, job.result, job.error, seq_at(job.finished_at or job.created_at))


def row_event(job: Job) -> dict[str, Any]:
    """A running job's state as its row knows it (when the event bus has nothing newer)."""
    if job.kind == "batch":
        return batch_event(job.id, job.status, 0, 0, 0, None, message=job.message, seq=seq_at(job.created_at))
    return make_event(job.id, job.status, job.progress, job.message, seq=seq_at(job.created_at))


def _frame(event: dict[str, Any], named: bool) -> bytes:
    seq, data = split_seq(event)
    name = f"event: {EVENT_NAMES.get(data['status'], 'progress')}\n" if named else ""
    return f"id: {seq}\n{name}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _last_event_id(request: Request) -> int:
    raw = request.headers.get("last-event-id", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 20 else 0


@router.get("/api/v1/jobs/{job_id}/progress", summary="Server-sent progress events for a job")
async def progress(
    job_id: str,
    request: Request,
    principal: CurrentUser,
    events: Annotated[Literal["named"] | None, Query(description="`named` adds `event:` lines")] = None,
) -> Response:
    """Server-sent events: each frame has an `id:` (the job's event sequence); reconnecting with
    `Last-Event-ID` resumes after it, without repeating a frame. Frames are unnamed (read them with
    `onmessage`) unless `?events=named` adds `event: progress|completed|failed|canceled`. The stream
    ends after the final frame; asked to resume after it, it answers 204 (EventSource then stops)."""
    service = job_service(request)
    named = events == "named"
    last = _last_event_id(request)
    # Subscribe before reading the row, so an event published in between is not lost.
    queue = service.bus.subscribe(job_id)
    try:
        job = await visible_job(job_id, principal)
    except Exception:
        service.bus.unsubscribe(job_id, queue)
        raise
    if job.status in TERMINAL and last and last >= split_seq(terminal_event(job))[0]:
        service.bus.unsubscribe(job_id, queue)
        return Response(status_code=204)

    async def stream() -> AsyncIterator[bytes]:
        sent = last
        try:
            if job.status in TERMINAL:
                yield _frame(terminal_event(job), named)
                return
            current = await service.bus.latest(job_id) or row_event(job)
            if current["seq"] > sent:
                sent = current["seq"]
                yield _frame(current, named)
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": heartbeat\n\n"
                    continue
                if event.get("seq", 0) <= sent:
                    continue  # already sent (or before the client's Last-Event-ID)
                sent = event["seq"]
                yield _frame(event, named)
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


JobLinkOrUser = Annotated[
    Principal | None,
    Depends(signed_link_or_user(lambda p, exp, sig, s: verify_download(p["job_id"], p["filename"], exp, sig, s))),
]


@router.get("/api/v1/download/{job_id}/{filename:path}", summary="Download a job's output (supports Range)")
async def download(job_id: str, filename: str, request: Request, principal: JobLinkOrUser) -> FileResponse:
    """Needs credentials, or the `exp` and `sig` of the signed `downloadUrl` an answer gave (no header needed)."""
    # With credentials a malformed job id is "Job not found", as for the other job routes.
    if principal is not None:
        check_job_id(job_id)
    else:
        check_path_part(job_id)
    check_path_part(filename)
    # One thread hop for the row, the checks, the stat and (a small file) its bytes.
    ready, media_type = await run_in_threadpool(
        _prepare_download, job_id, filename, principal, job_service(request).output_dir(job_id)
    )
    check_range(request.headers.get("range"), ready.stat.st_size)
    return ReadyFileResponse(
        ready,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            # Outputs are user content: if opened directly (an SVG, say), nothing in them may run.
            "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
        },
    )


def _prepare_download(
    job_id: str, filename: str, principal: Principal | None, output_dir: Path
) -> tuple[ReadyFile, str]:
    job = load_job(job_id)
    # A signed link already proved who may read it; otherwise the caller must see the job.
    if principal is not None and not may_see(job, principal):
        raise NotFound("Job not found")
    if job is None:
        raise NotFound("File not found")
    if job.status != "completed":
        # A failed, cancelled or interrupted job may have left a partial file: never serve it.
        raise Conflict(f"Job is {job.status}; its outputs are not available", code="JOB_NOT_COMPLETED")
    ready = ready_file(output_dir / filename)
    if ready is None:
        raise NotFound("File not found")
    suffix = ready.path.suffix.lower()
    if suffix in _TEXT_TYPES:
        return ready, _TEXT_TYPES[suffix]
    kind = sniff_bytes(ready.body[:HEAD_BYTES]) if ready.body is not None else None
    if kind is None or kind in DEEPER_SNIFF:
        kind = sniff_file(ready.path)  # containers need more than the first bytes (or a large file)
    return ready, mime_for(kind or "")


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
