"""/api/v1/settings: runtime key-value configuration."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from app.audit.service import record
from app.auth.principal import Principal
from app.deps import SessionDep, client_ip, require
from app.errors import NotFound, ValidationFailed
from app.settings import service

router = APIRouter(prefix="/api/v1/settings", tags=["settings"])
Reader = Annotated[Principal, Depends(require("settings:read"))]
Writer = Annotated[Principal, Depends(require("settings:write"))]


@router.get("", summary="Get all settings (string values)")
def get_settings(_: Reader, db: SessionDep) -> Any:
    return {"settings": service.get_all(db)}


@router.put("", summary="Update several settings at once (JSON object of key-value pairs)")
def put_settings(
    request: Request,
    actor: Writer,
    db: SessionDep,
    body: Annotated[Any, Body(examples=[{"disabledTools": ["compress"], "loginAttemptLimit": 10}])],
) -> Any:
    if not isinstance(body, dict):
        raise ValidationFailed("Request body must be a JSON object with key-value pairs")
    if len(body) > 200:
        raise ValidationFailed("Too many settings in one request (200 at most)")
    keys = service.put_many(db, body, actor.user_id)
    if keys:
        record(
            db,
            "SETTINGS_UPDATED",
            actor_id=actor.user_id,
            actor_username=actor.username,
            ip=client_ip(request),
            target_type="setting",
            details={"keys": keys},
        )
    return {"ok": True, "updatedCount": len(keys)}


@router.get("/{key}", summary="Get one setting")
def get_setting(key: str, _: Reader, db: SessionDep) -> Any:
    row = service.get_row(db, key)
    if row is not None:
        return {"key": key, "value": row.value, "updatedAt": row.updated_at.isoformat()}
    value = service.get_text(db, key)
    if value is None:
        raise NotFound(f'Setting "{key[:100]}" not found')
    return {"key": key, "value": value, "updatedAt": None}
