"""/api/v1/audit-log: paginated, filterable record of security-relevant actions."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from app.auth.principal import Principal
from app.deps import SessionDep, require
from app.errors import ValidationFailed
from app.models import AuditEntry

router = APIRouter(prefix="/api/v1/audit-log", tags=["audit"])
ACTION = re.compile(r"^[A-Za-z0-9_]+$")
Auditor = Annotated[Principal, Depends(require("audit:read"))]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@router.get("", summary="Audit log entries, newest first")
def audit_log(
    _: Auditor,
    db: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    action: Annotated[str | None, Query(max_length=64, description="e.g. LOGIN_FAILED, ROLE_CREATED")] = None,
    from_: Annotated[datetime | None, Query(alias="from", description="ISO 8601, inclusive")] = None,
    to: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
) -> Any:
    filters = []
    if action:
        if not ACTION.match(action):
            raise ValidationFailed("Invalid action filter", details={"action": "letters, digits and _ only"})
        filters.append(AuditEntry.action == action)
    if from_ is not None:
        filters.append(AuditEntry.created_at >= _utc(from_))
    if to is not None:
        filters.append(AuditEntry.created_at <= _utc(to))
    total = db.scalar(select(func.count()).select_from(AuditEntry).where(*filters)) or 0
    rows = db.scalars(
        select(AuditEntry)
        .where(*filters)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * limit)
        .limit(limit)
    )
    entries = [
        {
            "id": r.id,
            "action": r.action,
            "actorId": r.actor_id,
            "actorUsername": r.actor_username,
            "targetType": r.target_type,
            "targetId": r.target_id,
            "details": r.details,
            "ipAddress": r.ip,
            "createdAt": r.created_at.isoformat(),
        }
        for r in rows
    ]
    return {"entries": entries, "total": total, "page": page, "limit": limit}
