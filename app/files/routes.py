"""/api/v1/files (the persistent library), /api/v1/upload (workspace upload) and /api/v1/preview."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from app.admission.deps import UPLOAD_ADMISSION
from app.auth.principal import Principal
from app.auth.signed_urls import url_path, verify_library
from app.config import Settings, get_settings
from app.db import session_scope
from app.deps import SessionDep, SettingsDep, require, signed_link_or_user
from app.engine.media.sniff import sniff_file
from app.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from app.files import service
from app.files.schemas import (
    DeleteBody,
    DeletedAnswer,
    FileDetail,
    FileList,
    FilesAnswer,
    SavedAnswer,
    SaveResultBody,
    SaveResultForm,
    WorkspaceAnswer,
)
from app.jobs.access import check_path_part, job_service, visible_job
from app.jobs.batch import unique_name
from app.jobs.routes import check_range, content_disposition
from app.jobs.tool_routes import read_json_body
from app.jobs.uploads import ReceivedForm, receive_form
from app.models import Job, LibraryFile

router = APIRouter(tags=["files"])
FilesUser = Annotated[Principal, Depends(require("files:own"))]
ToolsUser = Annotated[Principal, Depends(require("tools:use"))]
MAX_FILES_PER_UPLOAD = 100
_M = TypeVar("_M", bound=BaseModel)


async def _receive(request: Request, dest: Path, settings: Settings, max_files: int) -> ReceivedForm:
    try:
        form = await receive_form(request, dest, max_file_bytes=settings.max_upload_bytes, max_files=max_files)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    if not form.files:
        shutil.rmtree(dest, ignore_errors=True)
        raise BadRequest("No file provided", code="NO_FILE")
    empty = next((f for f in form.files if f.size == 0), None)
    if empty is not None:
        shutil.rmtree(dest, ignore_errors=True)
        raise BadRequest(f"File {empty.filename!r} is empty", code="EMPTY_FILE")
    return form


@router.post(
    "/api/v1/upload",
    response_model=WorkspaceAnswer,
    summary="Upload files to a temporary job workspace",
    dependencies=[UPLOAD_ADMISSION],
)
async def upload_to_workspace(request: Request, principal: ToolsUser) -> Any:
    """Files land in a job workspace: downloadable at /api/v1/download/{jobId}/{name}, deleted with old jobs."""
    jobs = job_service(request)
    job_id = jobs.new_id()
    incoming = jobs.workspace(job_id) / "in"
    form = await _receive(request, incoming, jobs.settings, MAX_FILES_PER_UPLOAD)
    out = jobs.output_dir(job_id)

    def place() -> list[dict[str, Any]]:
        out.mkdir(parents=True, exist_ok=True)
        taken: set[str] = set()
        listed = []
        for upload in form.files:
            name = unique_name(upload.filename, taken)
            upload.path.replace(out / name)
            kind = sniff_file(out / name)
            listed.append({"name": name, "size": upload.size, "format": kind or Path(name).suffix.lstrip(".")})
        shutil.rmtree(incoming, ignore_errors=True)
        return listed

    files = await run_in_threadpool(place)
    total = sum(f["size"] for f in files)
    await jobs.create(job_id, principal.user_id, "upload", None, {}, total)
    await jobs.finish_batch(job_id, {"files": files})
    return {"jobId": job_id, "files": files}


@router.post(
    "/api/v1/files/upload",
    status_code=201,
    response_model=FilesAnswer,
    summary="Upload files to the library",
    dependencies=[UPLOAD_ADMISSION],
)
async def upload_files(request: Request, principal: FilesUser) -> Any:
    """Multipart `file` (or several `files`); each becomes version 1 of a new library file. 413 over the quota."""
    settings = get_settings()
    staging = service.staging_dir(settings)
    form = await _receive(request, staging, settings, MAX_FILES_PER_UPLOAD)

    def store() -> list[dict[str, Any]]:
        with session_scope() as db:
            # The whole upload is refused when it would pass the quota, not just the files after the limit.
            service.check_quota(db, principal.user_id, sum(f.size for f in form.files))
            rows = [
                service.add_file(
                    db, settings, principal.user_id, f.path, service.display_name(f.original, f.filename), move=True
                )
                for f in form.files
            ]
            return [service.file_out(r) for r in rows]

    try:
        files = await run_in_threadpool(store)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"files": files}


def _job_output(jobs_out: Path, job: Job, filename: str | None) -> Path:
    if filename:
        check_path_part(filename)
        path = jobs_out / filename
    else:
        url = (job.result or {}).get("downloadUrl") if isinstance(job.result, dict) else None
        if url:
            path = jobs_out / unquote(url_path(url).rsplit("/", 1)[-1])
        else:
            outputs = sorted(p for p in jobs_out.glob("*") if p.is_file()) if jobs_out.is_dir() else []
            if len(outputs) != 1:
                raise BadRequest("This job has several outputs; name one with 'filename'", code="FILENAME_REQUIRED")
            path = outputs[0]
    if not path.is_file():
        raise NotFound("Output file not found", code="FILE_NOT_FOUND")
    return path


_SAVE_RESULT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SaveResultBody.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    **SaveResultForm.model_json_schema(),
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The file to store"},
                        **SaveResultForm.model_json_schema()["properties"],
                    },
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post(
    "/api/v1/files/save-result",
    status_code=201,
    response_model=SavedAnswer,
    summary="Save a job's output (JSON) or an edited file (multipart) to the library",
    openapi_extra=_SAVE_RESULT_BODY,
)
async def save_result(request: Request, principal: FilesUser) -> Any:
    """JSON `{jobId, filename?, parentId?}` saves a job's output; multipart `file` (with `parentId`, `toolId`)
    saves the sent file. With `parentId` it becomes the next version of that file's chain, else a new file."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data":
        return {"file": await _save_sent_file(request, principal)}
    body = _validated(SaveResultBody, await read_json_body(request))
    job = await visible_job(body.jobId, principal)
    if job.status != "completed":
        raise Conflict(f"Job is {job.status}, not completed", code="JOB_NOT_COMPLETED")
    jobs = job_service(request)
    source = _job_output(jobs.output_dir(job.id), job, body.filename)
    row = await run_in_threadpool(save_output, principal, source, job, body.parentId)
    return {"file": row}


def _validated(model: type[_M], values: dict[str, Any]) -> _M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        details = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
        name, message = next(iter(details.items()))
        raise ValidationFailed(f"Invalid {name}: {message}", details=details) from exc


async def _save_sent_file(request: Request, principal: Principal) -> dict[str, Any]:
    """SnapOtter's form: the edited file itself, the version it follows and the tool that made it."""
    settings = get_settings()
    staging = service.staging_dir(settings)
    form = await _receive(request, staging, settings, 1)
    try:
        fields = _validated(SaveResultForm, {k: v for k, v in form.fields.items() if v != ""})
    except ValidationFailed:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    sent = form.files[0]

    def store() -> dict[str, Any]:
        with session_scope() as db:
            parent = service.get_visible(db, principal, fields.parentId) if fields.parentId else None
            name = service.display_name(sent.original, sent.filename)
            row = service.add_file(
                db, settings, principal.user_id, sent.path, name, move=True, parent=parent, tool_id=fields.toolId
            )
            return service.file_out(row)

    try:
        return await run_in_threadpool(store)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def save_output(principal: Principal, source: Path, job: Job, parent_id: str | None) -> dict[str, Any]:
    """Stores a job output as a library file (or the next version of parent_id's chain)."""
    settings = get_settings()
    tool_id = job.tool_id if job.kind in ("tool", "pipeline", "action") else None
    with session_scope() as db:
        parent = service.get_visible(db, principal, parent_id) if parent_id else None
        row = service.add_file(
            db,
            settings,
            principal.user_id,
            source,
            source.name,
            move=False,
            parent=parent,
            tool_id=tool_id,
            job_id=job.id,
        )
        return service.file_out(row)


@router.get("/api/v1/files", response_model=FileList, summary="List library files (newest version of each)")
def list_files(
    db: SessionDep,
    principal: FilesUser,
    search: Annotated[str | None, Query(max_length=200, description="Part of the file name")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    kinds: Annotated[
        str | None,
        Query(max_length=1000, description="Only these detected kinds, comma-separated (a tool's `accepts`)"),
    ] = None,
    owner: Annotated[
        str | None,
        Query(
            min_length=1, max_length=100, description="Only this user's files: a user id or username (needs files:all)"
        ),
    ] = None,
) -> Any:
    """Your files (everyone's with files:all, each with its `owner`), newest first, each chain shown once at
    its latest version. `owner` filters by user for admins; without files:all it answers 403."""
    wanted = [k.strip() for k in kinds.split(",") if k.strip()] if kinds else None
    owner_id = None
    if owner is not None:
        if not principal.has("files:all"):
            raise Forbidden("Missing permission: files:all (needed to filter by owner)")
        owner_id = service.find_owner(db, owner)
        if owner_id is None:
            return {"files": [], "total": 0, "limit": limit, "offset": offset}
    rows, total = service.list_latest(db, principal, search, limit, offset, wanted, owner_id)
    return {"files": _with_owners(db, principal, rows), "total": total, "limit": limit, "offset": offset}


def _with_owners(db: Session, principal: Principal, rows: list[LibraryFile]) -> list[dict[str, Any]]:
    """file_out of each row, with its owner for callers who see everyone's files (null for the others)."""
    owners = service.owners_of(db, rows) if principal.has("files:all") else {}
    return [service.file_out(r) | {"owner": owners.get(r.user_id)} for r in rows]


@router.delete("/api/v1/files", response_model=DeletedAnswer, summary="Delete files with their whole version chains")
def delete_files(body: DeleteBody, db: SessionDep, settings: SettingsDep, principal: FilesUser) -> Any:
    """All or nothing: an id that is unknown (or not yours) answers 404 and nothing is deleted."""
    deleted = service.delete_chains(db, settings, principal, body.ids)
    return {"deleted": deleted, "count": len(deleted)}


@router.get("/api/v1/files/{file_id}", response_model=FileDetail, summary="A library file and its version chain")
def get_file(file_id: str, db: SessionDep, principal: FilesUser) -> Any:
    """The file's metadata and every version of its chain, oldest first, with the tool that made each."""
    row = service.get_visible(db, principal, file_id)
    versions = [{**service.file_out(v), "toolId": v.tool_id, "jobId": v.job_id} for v in service.chain_of(db, row)]
    return {"file": _with_owners(db, principal, [row])[0], "versions": versions}


_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Library files are user content: if opened directly (an SVG, say), nothing in them may run.
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
}


LibraryLinkOrUser = Annotated[
    Principal | None, Depends(signed_link_or_user(lambda p, exp, sig, s: verify_library(p["file_id"], exp, sig, s)))
]


@router.get("/api/v1/files/{file_id}/download", summary="Download a library file (supports Range)")
def download_file(
    file_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    principal: LibraryLinkOrUser,
) -> FileResponse:
    """Needs credentials, or the `exp` and `sig` of a file's signed `downloadUrl` (valid 24 hours)."""
    if principal is not None and not principal.has("files:own"):
        raise Forbidden("Missing permission: files:own")
    row = service.get_visible(db, principal, file_id) if principal is not None else service.get_any(db, file_id)
    path = service.path_of(settings, row)
    if not path.is_file():
        raise NotFound("File content is missing", code="FILE_NOT_FOUND")
    check_range(request.headers.get("range"), path.stat().st_size)
    headers = {"Content-Disposition": content_disposition(row.original_name), **_SAFE_HEADERS}
    return FileResponse(path, media_type=row.mime_type, headers=headers)


@router.get("/api/v1/files/{file_id}/thumbnail", summary="A 300 px JPEG thumbnail (images, PDFs, videos)")
def file_thumbnail(file_id: str, db: SessionDep, settings: SettingsDep, principal: FilesUser) -> FileResponse:
    """Made on first request (a sync route: FastAPI runs it in the threadpool) and cached."""
    row = service.get_visible(db, principal, file_id)
    path = service.thumbnail(settings, row)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.post(
    "/api/v1/preview",
    summary="A browser-viewable WebP preview (HEIC/HEIF, TIFF and other formats browsers can't show)",
    response_class=Response,
    responses={200: {"content": {"image/webp": {}}, "description": "WebP, at most 1200 px"}},
)
async def preview(request: Request, principal: ToolsUser) -> Response:
    """Multipart `file`; answers image/webp with X-Original-Width and X-Original-Height headers."""
    settings = get_settings()
    staging = service.staging_dir(settings)
    form = await _receive(request, staging, settings, 1)
    try:
        data, width, height = await run_in_threadpool(service.preview_webp, form.files[0].path, settings.max_megapixels)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    headers = {
        "X-Original-Width": str(width),
        "X-Original-Height": str(height),
        "Access-Control-Expose-Headers": "X-Original-Width, X-Original-Height",
    }
    return Response(data, media_type="image/webp", headers=headers)
