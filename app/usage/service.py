"""Usage report: jobs per section and tool, bytes in and out, processing time and storage, per user."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Job, LibraryFile, User
from app.settings import service as runtime_settings

# Rows that are bookkeeping, not work someone asked for: a workspace upload runs no tool, and a lookup
# (a tool's info, inspect or preview sub-route: the UI's own PDF page previews) only looks at an input.
NOT_WORK = ("upload", "lookup")
# Jobs without a tool of their own run a pipeline (on one file, or as a batch).
PIPELINE_KINDS = ("pipeline", "batch")


def section_of(section: str | None, kind: str) -> str:
    """The row's section; "pipeline" for pipeline runs (recorded with none before)."""
    return section or ("pipeline" if kind in PIPELINE_KINDS else kind)


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _counter() -> dict[str, Any]:
    return {
        "total": 0,
        "succeeded": 0,
        "failed": 0,
        "canceled": 0,
        "bytesIn": 0,
        "bytesOut": 0,
        "processingSeconds": 0.0,
    }


def _add(counter: dict[str, Any], status: str, bytes_in: int, bytes_out: int, seconds: float) -> None:
    counter["total"] += 1
    key = {"completed": "succeeded", "failed": "failed", "canceled": "canceled"}.get(status)
    if key:
        counter[key] += 1
    counter["bytesIn"] += bytes_in or 0
    counter["bytesOut"] += bytes_out or 0
    counter["processingSeconds"] += seconds


def _rounded(counter: dict[str, Any]) -> dict[str, Any]:
    return {**counter, "processingSeconds": round(counter["processingSeconds"], 3)}


def report(db: Session, user_ids: list[str] | None, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One report per user (every user when user_ids is None), for jobs created in [start, end)."""
    users_q = select(User.id, User.username).order_by(User.username)
    if user_ids is not None:
        users_q = users_q.where(User.id.in_(user_ids))
    users = list(db.execute(users_q))
    wanted = [u.id for u in users]

    jobs_q = select(
        Job.user_id,
        Job.kind,
        Job.section,
        Job.tool_id,
        Job.status,
        Job.bytes_in,
        Job.bytes_out,
        Job.started_at,
        Job.finished_at,
    ).where(Job.created_at >= start, Job.created_at < end, Job.kind.not_in(NOT_WORK), Job.user_id.in_(wanted))
    totals: dict[str, dict[str, Any]] = defaultdict(_counter)
    sections: dict[str, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(_counter))
    tools: dict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(lambda: defaultdict(_counter))
    # Streamed in batches: a busy month is many rows, but each is only a few columns.
    for row in db.execute(jobs_q.execution_options(yield_per=1000)):
        seconds = (
            max(0.0, (row.finished_at - row.started_at).total_seconds()) if row.started_at and row.finished_at else 0.0
        )
        args = (row.status, row.bytes_in, row.bytes_out, seconds)
        section = section_of(row.section, row.kind)
        _add(totals[row.user_id], *args)
        _add(sections[row.user_id][section], *args)
        _add(tools[row.user_id][(section, row.tool_id)], *args)

    storage = {
        r.user_id: (int(r.bytes or 0), int(r.files or 0))
        for r in db.execute(
            select(LibraryFile.user_id, func.sum(LibraryFile.size).label("bytes"), func.count().label("files"))
            .where(LibraryFile.user_id.in_(wanted))
            .group_by(LibraryFile.user_id)
        )
    }
    quota = runtime_settings.storage_quota_bytes(db)
    reports = []
    for user in users:
        used, files = storage.get(user.id, (0, 0))
        overall = _rounded(totals[user.id]) if user.id in totals else _rounded(_counter())
        reports.append(
            {
                "userId": user.id,
                "username": user.username,
                "jobs": {k: overall[k] for k in ("total", "succeeded", "failed", "canceled")},
                "bytesIn": overall["bytesIn"],
                "bytesOut": overall["bytesOut"],
                "processingSeconds": overall["processingSeconds"],
                "bySection": [
                    {"section": name, **_rounded(c)} for name, c in sorted(sections.get(user.id, {}).items())
                ],
                "byTool": [
                    {"section": section, "toolId": tool_id, **_rounded(c)}
                    for (section, tool_id), c in sorted(tools.get(user.id, {}).items())
                ],
                "storage": {"usedBytes": used, "fileVersions": files, "quotaBytes": quota},
            }
        )
    return reports
