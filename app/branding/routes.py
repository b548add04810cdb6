"""/api/v1/branding: the app name, accent colour and logo (public to read; settings:write to change)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from app.audit.service import record
from app.auth.principal import Principal
from app.branding import service
from app.db import session_scope
from app.deps import SessionDep, client_ip, require
from app.errors import BadRequest, NotFound, PayloadTooLarge
from app.jobs.uploads import receive_form

router = APIRouter(prefix="/api/v1/branding", tags=["branding"])
BrandingAdmin = Annotated[Principal, Depends(require("settings:write"))]


@router.get("", summary="Public: the app name, accent colour and logo URL the UI shows")
def branding(db: SessionDep) -> Any:
    return service.view(db)


@router.get("/logo", summary="Public: the uploaded logo (PNG)", response_class=FileResponse)
def logo() -> Any:
    path = service.logo_path()
    if not path.is_file():
        raise NotFound("No logo has been uploaded", code="NO_LOGO")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "public, max-age=300"})


def _store(source: Path, actor: Principal, ip: str) -> dict[str, Any]:
    width, height = service.save_logo(source.read_bytes())
    with session_scope() as db:
        record(
            db,
            "BRANDING_LOGO_UPDATED",
            actor_id=actor.user_id,
            actor_username=actor.username,
            ip=ip,
            details={"width": width, "height": height},
        )
        return {"ok": True, **service.view(db)}


@router.post(
    "/logo",
    summary="Upload the logo: multipart field `file`, PNG or WebP, at most 512 KB; stored re-encoded",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
        }
    },
)
async def upload_logo(request: Request, actor: BrandingAdmin) -> Any:
    folder = Path(tempfile.mkdtemp(prefix="lutra-logo-"))
    try:
        try:
            form = await receive_form(request, folder, max_file_bytes=service.MAX_LOGO_BYTES, max_files=1)
        except PayloadTooLarge:
            raise PayloadTooLarge("The logo is over 512 KB") from None
        if not form.files or form.files[0].size == 0:
            raise BadRequest("No logo file provided (multipart field `file`)", code="NO_FILE")
        return await run_in_threadpool(_store, form.files[0].path, actor, client_ip(request))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.delete("/logo", summary="Remove the logo")
def delete_logo(request: Request, actor: BrandingAdmin, db: SessionDep) -> Any:
    if not service.delete_logo():
        raise NotFound("No logo has been uploaded", code="NO_LOGO")
    record(db, "BRANDING_LOGO_DELETED", actor_id=actor.user_id, actor_username=actor.username, ip=client_ip(request))
    return {"ok": True}
