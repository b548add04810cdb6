"""/api/v1/teams: list, create, rename, delete."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit.service import record
from app.auth.principal import Principal
from app.auth.service import DEFAULT_TEAM_ID
from app.deps import SessionDep, client_ip, require
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Team, User
from app.quotas import service as quotas

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])
TeamAdmin = Annotated[Principal, Depends(require("teams:manage"))]
MAX_NAME = 50


class TeamBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    # Limits are checked after trimming, so they live in the validator; the schema still shows them.
    name: str = Field(json_schema_extra={"minLength": 1, "maxLength": MAX_NAME})

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise PydanticCustomError("team_name", "Team name is required")
        if len(value) > MAX_NAME:
            raise PydanticCustomError("team_name", "Team name must be 50 characters or fewer")
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise PydanticCustomError("team_name", "Team name must not contain control characters")
        return value


def _get(db: SessionDep, team_id: str) -> Team:
    # PostgreSQL rejects NUL in a query parameter; no id contains one, so it simply is not found.
    team = db.get(Team, team_id) if "\x00" not in team_id else None
    if team is None:
        raise NotFound("Team not found")
    return team


def _check_unique(db: SessionDep, name: str, exclude_id: str | None = None) -> None:
    stmt = select(Team.id).where(func.lower(Team.name) == name.lower())
    if exclude_id:
        stmt = stmt.where(Team.id != exclude_id)
    if db.scalar(stmt):
        raise Conflict("Team name already exists", code="CONFLICT")


def _flush(db: SessionDep) -> None:
    # Two requests can pass the check above at once; the unique index then decides, and the loser
    # gets the same 409 instead of a 500.
    try:
        db.flush()
    except IntegrityError:
        raise Conflict("Team name already exists", code="CONFLICT") from None


@router.get("", summary="List teams with member counts")
def list_teams(_: TeamAdmin, db: SessionDep) -> Any:
    counts = dict(db.execute(select(User.team_id, func.count()).group_by(User.team_id)).all())
    teams = db.scalars(select(Team).order_by(Team.created_at))
    return {
        "teams": [
            {
                "id": t.id,
                "name": t.name,
                "isDefault": t.is_default,
                "memberCount": counts.get(t.id, 0),
                "createdAt": t.created_at.isoformat(),
            }
            for t in teams
        ]
    }


@router.post("", status_code=201, summary="Create a team")
def create_team(body: TeamBody, request: Request, actor: TeamAdmin, db: SessionDep) -> Any:
    _check_unique(db, body.name)
    team = Team(name=body.name)
    db.add(team)
    _flush(db)
    record(
        db,
        "TEAM_CREATED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="team",
        target_id=team.id,
        details={"name": team.name},
    )
    return {"id": team.id, "name": team.name, "createdAt": team.created_at.isoformat()}


@router.put("/{team_id}", summary="Rename a team")
def rename_team(team_id: str, body: TeamBody, request: Request, actor: TeamAdmin, db: SessionDep) -> Any:
    team = _get(db, team_id)
    _check_unique(db, body.name, exclude_id=team.id)
    old = team.name
    team.name = body.name
    _flush(db)
    record(
        db,
        "TEAM_UPDATED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="team",
        target_id=team.id,
        details={"from": old, "to": body.name},
    )
    return {"ok": True}


@router.delete("/{team_id}", summary="Delete a team (not the default team, not one with members)")
def delete_team(team_id: str, request: Request, actor: TeamAdmin, db: SessionDep) -> Any:
    team = _get(db, team_id)
    if team.is_default or team.id == DEFAULT_TEAM_ID:
        raise ValidationFailed("Cannot delete the Default team")
    if db.scalar(select(func.count()).select_from(User).where(User.team_id == team.id)):
        raise ValidationFailed("Cannot delete a team that has members")
    quotas.forget(db, "team", team.id)
    db.delete(team)
    record(
        db,
        "TEAM_DELETED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="team",
        target_id=team_id,
        details={"name": team.name},
    )
    return {"ok": True}
