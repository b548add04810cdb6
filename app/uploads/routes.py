"""/api/v1/uploads: resumable uploads of large files, in parts, verified, ending in the file library."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from app.admission.deps import UPLOAD_ADMISSION
from app.auth.principal import Principal
from app.config import get_settings
from app.deps import SessionDep, SettingsDep, require
from app.uploads import service
from app.uploads.schemas import AbortedAnswer, CompleteBody, CompletedAnswer, CreateUploadBody, PartOut, UploadOut

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])
FilesUser = Annotated[Principal, Depends(require("files:own"))]


@router.post("", status_code=201, response_model=UploadOut, summary="Start a resumable upload session")
def create_upload(body: CreateUploadBody, db: SessionDep, settings: SettingsDep, principal: FilesUser) -> Any:
    """Declares the file (name, size, optional SHA-256); answers the uploadId, part size and expiry (24 h)."""
    row = service.create(db, settings, principal, body.filename, body.size, body.sha256, body.contentType)
    return service.describe(db, row)


@router.get("/{upload_id}", response_model=UploadOut, summary="An upload session and the parts received so far")
def show_upload(upload_id: str, db: SessionDep, settings: SettingsDep, principal: FilesUser) -> Any:
    """A client resuming after a broken connection sends only the parts missing here."""
    return service.describe(db, service.owned(db, settings, principal, upload_id))


@router.put(
    "/{upload_id}/parts/{part_number}",
    response_model=PartOut,
    summary="Store one part (raw request body); re-sending a part replaces it",
    dependencies=[UPLOAD_ADMISSION],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def put_part(upload_id: str, part_number: int, request: Request, principal: FilesUser) -> Any:
    """The body is streamed to disk; answers the part's ETag (MD5 hex), also in the ETag header."""
    part = await service.receive_part(principal, get_settings(), upload_id, part_number, request.stream())
    return JSONResponse(part, headers={"ETag": f'"{part["etag"]}"'})


@router.post(
    "/{upload_id}/complete",
    status_code=201,
    response_model=CompletedAnswer,
    summary="Assemble the parts into a library file",
)
async def complete_upload(
    upload_id: str, principal: FilesUser, body: Annotated[CompleteBody | None, Body()] = None
) -> Any:
    """Checks the total size and the declared SHA-256 (mismatch: 400 and the upload is discarded)."""
    claimed = None
    if body is not None and body.parts is not None:
        claimed = [p.model_dump() for p in body.parts]
    file = await run_in_threadpool(service.complete, principal, get_settings(), upload_id, claimed)
    return {"file": file}


@router.post("/{upload_id}/abort", response_model=AbortedAnswer, summary="Abandon an upload and delete its parts")
def abort_upload(upload_id: str, db: SessionDep, settings: SettingsDep, principal: FilesUser) -> Any:
    service.abort(db, settings, principal, upload_id)
    return {"aborted": True, "uploadId": upload_id}
