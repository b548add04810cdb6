"""/api/v1/roles: built-in and custom roles with their permissions."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.audit.service import record
from app.auth.permissions import PERMISSIONS
from app.auth.principal import Principal
from app.auth.service import end_sessions
from app.deps import SessionDep, client_ip, require
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import Role, User

router = APIRouter(prefix="/api/v1/roles", tags=["roles"])
RoleReader = Annotated[Principal, Depends(require("audit:read"))]
RoleAdmin = Annotated[Principal, Depends(require("users:manage"))]
ROLE_NAME = re.compile(r"^[a-z0-9_-]+$")


def _name(value: str) -> str:
    value = value.strip().lower()
    if not 2 <= len(value) <= 30:
        raise PydanticCustomError("role_name", "Role name must be 2-30 characters")
    if not ROLE_NAME.match(value):
        raise PydanticCustomError(
            "role_name", "Role name can only contain lowercase letters, numbers, hyphens, and underscores"
        )
    return value


def _perms(value: list[str]) -> list[str]:
    unknown = [p for p in value if p not in PERMISSIONS]
    if unknown:
        raise PydanticCustomError("permissions", "Invalid permissions: {unknown}", {"unknown": ", ".join(unknown)})
    if not value:
        raise PydanticCustomError("permissions", "At least one permission is required")
    return sorted(set(value))


def _description(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("description", "Description must not contain NUL characters")
    return value


class CreateRoleBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    description: str = Field("", max_length=500)
    permissions: list[str]
    requireMfa: bool = Field(False, description="Members must set up two-factor login at their next password login")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _name(value)

    @field_validator("permissions")
    @classmethod
    def _check_permissions(cls, value: list[str]) -> list[str]:
        return _perms(value)

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str) -> str:
        return _description(value)


class UpdateRoleBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    description: str | None = Field(None, max_length=500)
    permissions: list[str] | None = None
    requireMfa: bool | None = Field(None, description="The only field a built-in role accepts")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        return None if value is None else _name(value)

    @field_validator("permissions")
    @classmethod
    def _check_permissions(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _perms(value)

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str | None) -> str | None:
        return None if value is None else _description(value)


def _view(role: Role, user_count: int) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "description": role.description,
        "permissions": role.permissions,
        "isBuiltin": role.is_builtin,
        "requireMfa": role.require_mfa,
        "userCount": user_count,
        "createdAt": role.created_at.isoformat(),
        "updatedAt": role.updated_at.isoformat(),
    }


def _get_role(db: SessionDep, role_id: str) -> Role:
    # PostgreSQL rejects NUL in a query parameter; no id contains one, so it simply is not found.
    role = db.get(Role, role_id) if "\x00" not in role_id else None
    if role is None:
        raise NotFound("Role not found")
    return role


def _get_custom(db: SessionDep, role_id: str, verb: str) -> Role:
    role = _get_role(db, role_id)
    if role.is_builtin:
        raise ValidationFailed(f"Cannot {verb} built-in roles")
    return role


def _check_grantable(actor: Principal, perms: list[str], what: str = "grant permissions") -> None:
    lacking = [p for p in perms if not actor.has(p)]
    if lacking:
        raise Forbidden(f"Cannot {what} you don't have: {', '.join(lacking)}", code="ESCALATION_DENIED")


def _unique(db: SessionDep, name: str, exclude: str | None = None) -> None:
    stmt = select(Role.id).where(Role.name == name)
    if exclude:
        stmt = stmt.where(Role.id != exclude)
    if db.scalar(stmt):
        raise Conflict("Role name already exists", code="CONFLICT")


def _flush(db: SessionDep) -> None:
    # Two requests can pass the check above at once; the unique index then decides, and the loser
    # gets the same 409 instead of a 500.
    try:
        db.flush()
    except IntegrityError:
        raise Conflict("Role name already exists", code="CONFLICT") from None


@router.get("", summary="List roles with their permissions and user counts")
def list_roles(_: RoleReader, db: SessionDep) -> Any:
    counts = dict(db.execute(select(User.role, func.count()).group_by(User.role)).all())
    roles = db.scalars(select(Role).order_by(Role.is_builtin.desc(), Role.created_at))
    return {"roles": [_view(r, counts.get(r.name, 0)) for r in roles], "permissions": list(PERMISSIONS)}


@router.post("", status_code=201, summary="Create a custom role")
def create_role(body: CreateRoleBody, request: Request, actor: RoleAdmin, db: SessionDep) -> Any:
    _unique(db, body.name)
    _check_grantable(actor, body.permissions)
    role = Role(name=body.name, description=body.description, permissions=body.permissions, require_mfa=body.requireMfa)
    db.add(role)
    _flush(db)
    record(
        db,
        "ROLE_CREATED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="role",
        target_id=role.id,
        details={"roleName": role.name},
    )
    return _view(role, 0)


@router.put("/{role_id}", summary="Update a custom role (built-ins: only requireMfa)")
def update_role(role_id: str, body: UpdateRoleBody, request: Request, actor: RoleAdmin, db: SessionDep) -> Any:
    only_mfa = body.requireMfa is not None and all(v is None for v in (body.name, body.description, body.permissions))
    role = _get_role(db, role_id) if only_mfa else _get_custom(db, role_id, "modify")
    # Someone holding users:manage alone must not rename or reshape a stronger role.
    _check_grantable(actor, role.permissions, "change a role holding permissions")
    if body.name is not None and body.name != role.name:
        _unique(db, body.name, exclude=role.id)
        db.execute(update(User).where(User.role == role.name).values(role=body.name))
        role.name = body.name
        _flush(db)
    if body.description is not None:
        role.description = body.description
    if body.permissions is not None:
        _check_grantable(actor, body.permissions)
        role.permissions = body.permissions
    if body.requireMfa is not None:
        role.require_mfa = body.requireMfa
    record(
        db,
        "ROLE_UPDATED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="role",
        target_id=role.id,
        details={"roleName": role.name},
    )
    return {"ok": True}


@router.delete("/{role_id}", summary="Delete a custom role; its users fall back to the user role")
def delete_role(role_id: str, request: Request, actor: RoleAdmin, db: SessionDep) -> Any:
    role = _get_custom(db, role_id, "delete")
    # ...nor demote its members to `user` by deleting it.
    _check_grantable(actor, role.permissions, "change a role holding permissions")
    affected = list(db.scalars(select(User).where(User.role == role.name)))
    for user in affected:
        user.role = "user"
        end_sessions(db, user.id)
    db.delete(role)
    record(
        db,
        "ROLE_DELETED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="role",
        target_id=role_id,
        details={"roleName": role.name, "usersMoved": len(affected)},
    )
    return {"ok": True}
