"""/api/v1/api-keys: create (shown once), list, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from app.audit.service import record
from app.auth import key_usage, tokens
from app.auth.permissions import PERMISSIONS
from app.auth.principal import Principal
from app.auth.service import storable
from app.deps import SessionDep, client_ip, require
from app.errors import NotFound, ValidationFailed
from app.models import ApiKey

router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])
KeyOwner = Annotated[Principal, Depends(require("apikeys:own"))]
DEFAULT_NAME = "Default API Key"


class CreateKeyBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, max_length=100)
    permissions: list[str] | None = Field(None, description="A subset of your own permissions")
    expiresAt: datetime | None = Field(None, description="ISO 8601; the key stops working then")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _view(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": "si_" + key.prefix,
        "permissions": key.permissions,
        "createdAt": _iso(key.created_at),
        "lastUsedAt": _iso(key.last_used_at),
        "expiresAt": _iso(key.expires_at),
        "userId": key.user_id,
    }


@router.post("", status_code=201, summary="Create an API key; the raw key is returned only here")
def create_key(
    request: Request,
    response: Response,
    principal: KeyOwner,
    db: SessionDep,
    body: Annotated[CreateKeyBody | None, Body()] = None,
) -> Any:
    # The raw key must never be kept anywhere, an Idempotency-Key replay store included.
    response.headers["Cache-Control"] = "no-store"
    body = body or CreateKeyBody()
    perms = None
    if body.permissions:
        unknown = [p for p in body.permissions if p not in PERMISSIONS]
        if unknown:
            raise ValidationFailed(f"Invalid permissions: {', '.join(unknown)}", details={"permissions": unknown})
        lacking = [p for p in body.permissions if not principal.has(p)]
        if lacking:
            raise ValidationFailed(
                f"Cannot scope key with permissions you don't have: {', '.join(lacking)}",
                details={"permissions": lacking},
            )
        perms = sorted(set(body.permissions))
    expires = body.expiresAt
    if expires is not None:
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            raise ValidationFailed("expiresAt must be in the future", details={"expiresAt": "in the past"})
    raw = tokens.new_api_key()
    key = ApiKey(
        user_id=principal.user_id,
        name=(body.name or "").strip() or DEFAULT_NAME,
        prefix=tokens.key_lookup_prefix(raw),
        key_hash=tokens.hash_api_key(raw),
        permissions=perms,
        expires_at=expires,
    )
    db.add(key)
    db.flush()
    record(
        db,
        "API_KEY_CREATED",
        actor_id=principal.user_id,
        actor_username=principal.username,
        ip=client_ip(request),
        target_type="api_key",
        target_id=key.id,
        details={"keyName": key.name},
    )
    return {
        "id": key.id,
        "key": raw,
        "name": key.name,
        "permissions": key.permissions,
        "expiresAt": _iso(key.expires_at),
        "createdAt": _iso(key.created_at),
    }


@router.get("", summary="List API keys (never the raw key); apikeys:all sees everyone's")
def list_keys(principal: KeyOwner, db: SessionDep) -> Any:
    key_usage.flush(db)  # this node's not yet written lastUsedAt times, so the list is current
    stmt = select(ApiKey).order_by(ApiKey.created_at)
    if not principal.has("apikeys:all"):
        stmt = stmt.where(ApiKey.user_id == principal.user_id)
    return {"apiKeys": [_view(k) for k in db.scalars(stmt)]}


@router.delete("/{key_id}", summary="Delete an API key")
def delete_key(key_id: str, request: Request, principal: KeyOwner, db: SessionDep) -> Any:
    key = db.get(ApiKey, key_id) if storable(key_id) else None
    if key is None or (key.user_id != principal.user_id and not principal.has("apikeys:all")):
        raise NotFound("API key not found")
    db.delete(key)  # its cached credential is dropped when this commits (app.auth.invalidation)
    record(
        db,
        "API_KEY_DELETED",
        actor_id=principal.user_id,
        actor_username=principal.username,
        ip=client_ip(request),
        target_type="api_key",
        target_id=key_id,
        # The key's owner gets the apikey.revoked event, also when an admin deleted the key.
        details={"keyName": key.name, "ownerId": key.user_id},
    )
    return {"ok": True}
