"""/api/v1/usage: what a user (or, with audit:read, every user) ran and stored over a period."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.deps import CurrentUser, SessionDep
from app.errors import BadRequest, Forbidden
from app.usage import service
from app.usage.schemas import AllUsageReport, UsageReport

router = APIRouter(tags=["usage"])


def _moment(value: datetime | None, default: datetime) -> datetime:
    if value is None:
        return default
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@router.get(
    "/api/v1/usage",
    summary="Usage report: jobs per section and tool, bytes in/out, processing seconds, storage",
    response_model=UsageReport | AllUsageReport,
    response_model_by_alias=True,
)
def usage(
    db: SessionDep,
    principal: CurrentUser,
    from_: Annotated[
        datetime | None, Query(alias="from", description="ISO 8601 date or time (UTC); default: start of this month")
    ] = None,
    to: Annotated[datetime | None, Query(description="ISO 8601, exclusive; default: now")] = None,
    all_users: Annotated[
        bool, Query(alias="all", description="Every user, one report each (needs audit:read)")
    ] = False,
) -> Any:
    """Your own usage over the period; with `all=true` (audit:read) a report per user."""
    now = datetime.now(UTC)
    start, end = _moment(from_, service.month_start(now)), _moment(to, now)
    if end <= start:
        raise BadRequest("'to' must be after 'from'", code="INVALID_PERIOD", details={"to": "before from"})
    period = {"from": _iso(start), "to": _iso(end)}
    if all_users:
        if not principal.has("audit:read"):
            raise Forbidden("Missing permission: audit:read")
        return {**period, "users": service.report(db, None, start, end)}
    (mine,) = service.report(db, [principal.user_id], start, end)
    return {**period, **mine}
