"""/api/v1/admin/quotas: storage quotas for one user or one team, over the storageQuotaMb default."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from app.audit.service import record
from app.auth import service as accounts
from app.auth.principal import Principal
from app.deps import SessionDep, client_ip, require
from app.errors import NotFound
from app.models import Team, User
from app.quotas import service
from app.settings import service as runtime_settings

router = APIRouter(prefix="/api/v1/admin/quotas", tags=["quotas"])
UserAdmin = Annotated[Principal, Depends(require("users:manage"))]
TeamAdmin = Annotated[Principal, Depends(require("teams:manage"))]


class QuotaBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    storageQuotaMb: int | None = Field(
        ge=0, le=1_000_000_000, description="MB of library storage; 0 = unlimited; null = back to the default"
    )


def _audit(request: Request, db: SessionDep, actor: Principal, kind: str, subject: str, mb: int | None) -> None:
    record(
        db,
        "QUOTA_UPDATED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type=kind,
        target_id=subject,
        details={"storageQuotaMb": mb},
    )


@router.get("", summary="The default storage quota and every user's and team's own")
def list_quotas(db: SessionDep, _: UserAdmin) -> Any:
    default = runtime_settings.storage_quota_bytes(db)
    users, teams = service.overrides(db, "user"), service.overrides(db, "team")
    names = {i: n for i, n in db.execute(select(User.id, User.username).where(User.id.in_(users)))}
    team_names = {i: n for i, n in db.execute(select(Team.id, Team.name).where(Team.id.in_(teams)))}
    return {
        "defaultStorageQuotaMb": (default or 0) // service.MB,
        "users": [{"id": k, "username": names.get(k), "storageQuotaMb": v} for k, v in users.items()],
        "teams": [{"id": k, "name": team_names.get(k), "storageQuotaMb": v} for k, v in teams.items()],
    }


@router.put("/users/{user_id}", summary="Set one user's storage quota (413 STORAGE_QUOTA_EXCEEDED beyond it)")
def set_user_quota(user_id: str, body: QuotaBody, request: Request, db: SessionDep, actor: UserAdmin) -> Any:
    """Wins over the user's team quota and the default; counts library files and open upload sessions."""
    user = accounts.get_user(db, user_id)
    service.set_quota(db, "user", user.id, body.storageQuotaMb)
    _audit(request, db, actor, "user", user.id, body.storageQuotaMb)
    return {"ok": True, "userId": user.id, "storageQuotaMb": body.storageQuotaMb}


@router.put("/teams/{team_id}", summary="Set the storage quota of each member of a team")
def set_team_quota(team_id: str, body: QuotaBody, request: Request, db: SessionDep, actor: TeamAdmin) -> Any:
    """Applies to every member without a quota of their own; wins over the default."""
    team = db.get(Team, team_id) if len(team_id) <= 36 else None
    if team is None:
        raise NotFound("Team not found")
    service.set_quota(db, "team", team.id, body.storageQuotaMb)
    _audit(request, db, actor, "team", team.id, body.storageQuotaMb)
    return {"ok": True, "teamId": team.id, "storageQuotaMb": body.storageQuotaMb}
