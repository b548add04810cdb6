"""Job heartbeats, written by workers and read by the reaper: the row's `heartbeat_at` for jobs with a
row, and a Redis hash for every running task (batch items have no row of their own)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import update

from app.cluster import keys
from app.db import session_scope
from app.engine.spec import Outcome
from app.models import Job

ACTIVE = ("queued", "processing")


def has_row(job_id: str) -> bool:
    return "." not in job_id  # batch items are `<batch id>.<index>` and live in their batch's row


def beat_row(job_id: str, worker: str | None) -> None:
    if not has_row(job_id):
        return
    values: dict[str, Any] = {"heartbeat_at": datetime.now(UTC) if worker else None}
    if worker:
        values["worker"] = worker
    with session_scope() as db:
        db.execute(update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE)).values(**values))


def beat_running(client: redis.Redis, job_id: str, worker: str, reply_to: str) -> None:
    entry = {"worker": worker, "replyTo": reply_to, "at": time.time()}
    client.hset(keys.RUNNING, job_id, json.dumps(entry))


def lost_outcome(timeout_s: int) -> Outcome:
    return Outcome(
        "failed",
        error=f"The worker running this job was lost (no heartbeat for {timeout_s} s); please run it again",
        http_status=503,
        code="WORKER_LOST",
    )
