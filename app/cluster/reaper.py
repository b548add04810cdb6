"""The heartbeat reaper (one node at a time, under a lease): a job whose worker stopped sending
heartbeats for JOB_HEARTBEAT_TIMEOUT_S ends `failed` with code WORKER_LOST.

Two sources, because batch items have no row: the Redis hash of running tasks (any task, answered
to the node that waits for it), and the job rows' `heartbeat_at` (jobs whose Redis entry is gone).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy import select, update

from app.cluster import keys
from app.cluster.codec import outcome_to_dict
from app.cluster.heartbeat import ACTIVE, has_row, lost_outcome
from app.db import session_scope
from app.jobs.events import EventBus, make_event
from app.models import Job

log = logging.getLogger("lutra.cluster")


def _fail_rows(job_ids: list[str], timeout_s: int, stale_before: datetime | None) -> list[str]:
    """Marks these rows (or, with stale_before, every row with an older heartbeat) failed; returns their ids."""
    outcome = lost_outcome(timeout_s)
    with session_scope() as db:
        query = select(Job.id).where(Job.status.in_(ACTIVE))
        if stale_before is not None:
            query = query.where(Job.heartbeat_at.is_not(None), Job.heartbeat_at < stale_before)
        else:
            query = query.where(Job.id.in_(job_ids))
        ids = list(db.scalars(query))
        if ids:
            db.execute(
                update(Job)
                .where(Job.id.in_(ids), Job.status.in_(ACTIVE))
                .values(
                    status="failed",
                    error=outcome.error,
                    result={"httpStatus": outcome.http_status, "code": outcome.code},
                    finished_at=datetime.now(UTC),
                )
            )
        return ids


async def reap_once(client: aioredis.Redis, bus: EventBus, timeout_s: int) -> list[str]:
    """One pass; returns the ids of the jobs it ended."""
    outcome = lost_outcome(timeout_s)
    data = outcome_to_dict(outcome)
    now = time.time()
    lost: dict[str, str] = {}
    for job_id, text in (await client.hgetall(keys.RUNNING)).items():
        entry = json.loads(text)
        if now - float(entry.get("at", 0)) > timeout_s:
            lost[job_id] = entry.get("replyTo", "")
    if lost:
        async with client.pipeline(transaction=False) as pipe:
            for job_id, reply_to in lost.items():
                pipe.hdel(keys.RUNNING, job_id)
                pipe.set(keys.OUTCOME + job_id, json.dumps(data), ex=keys.OUTCOME_TTL_S)
                if reply_to:
                    pipe.publish(reply_to, json.dumps({"type": "done", "job": job_id, "outcome": data}))
            await pipe.execute()
    rows = [j for j in lost if has_row(j)]
    ended = await asyncio.to_thread(_fail_rows, rows, timeout_s, None) if rows else []
    cutoff = datetime.now(UTC) - timedelta(seconds=timeout_s)
    ended += await asyncio.to_thread(_fail_rows, [], timeout_s, cutoff)
    for job_id in ended:
        # Watchers of a job whose API node is gone too still get its end.
        bus.publish(job_id, make_event(job_id, "failed", 0, None, error=outcome.error, code=outcome.code))
    ended_all = sorted(set(lost) | set(ended))
    if ended_all:
        log.warning("ended %d jobs whose worker was lost: %s", len(ended_all), ", ".join(ended_all[:10]))
    return ended_all
