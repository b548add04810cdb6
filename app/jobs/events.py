"""Job progress events: an in-process pub/sub that the SSE route relays.

The interface (publish / subscribe / unsubscribe / latest) is also implemented by the Redis bus of
the scaled mode (app.cluster.bus); nothing else in the code talks to the transport. `latest` is a
coroutine because there it is a Redis read.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

TERMINAL = {"completed", "failed", "canceled"}
# The SSE `event:` name of each status (with ?events=named).
EVENT_NAMES = {"processing": "progress", "completed": "completed", "failed": "failed", "canceled": "canceled"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_clock_lock = threading.Lock()
_last_seq = 0


def next_seq() -> int:
    """A job event's sequence number (the SSE `id:`): Unix milliseconds, strictly increasing in this process.

    Milliseconds, not a counter, so a job's final frame can be numbered again from its row's
    finished_at (which `stamp()` makes equal) after the bus forgot the job, on any server."""
    global _last_seq
    with _clock_lock:
        _last_seq = max(_last_seq + 1, time.time_ns() // 1_000_000)
        return _last_seq


def seq_at(moment: datetime) -> int:
    return (moment - _EPOCH) // _MS


def stamp() -> tuple[int, datetime]:
    """A sequence number and the same instant as a datetime, for a job's final state and frame."""
    seq = next_seq()
    return seq, _EPOCH + seq * _MS


def split_seq(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The event's sequence number and its data without it (the frame's `id:` carries it)."""
    data = dict(event)
    return int(data.pop("seq", 0)), data


_PHASE = {
    "queued": "processing",
    "processing": "processing",
    "completed": "complete",
    "failed": "failed",
    "canceled": "canceled",
}


ETA_AFTER_S = 2.0  # a pace measured over less time than this is noise
ETA_FROM_PCT = 1.0


def estimate_eta(started: datetime | None, progress: float) -> float | None:
    """Seconds left if the job keeps the pace it has had since it started (None: too early to say)."""
    if started is None or progress < ETA_FROM_PCT:
        return None
    elapsed = (datetime.now(UTC) - started).total_seconds()
    if elapsed < ETA_AFTER_S:
        return None
    return elapsed * (100.0 - min(progress, 100.0)) / progress


def make_event(
    job_id: str,
    status: str,
    progress: float,
    message: str | None = None,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    code: str | None = None,
    seq: int | None = None,
    eta_seconds: float | None = None,
) -> dict[str, Any]:
    """One progress frame, in both the seed's vocabulary and the one SnapOtter's clients read."""
    if status == "queued":
        # The seed's streams know processing/completed/failed/canceled only: waiting for a slot is
        # processing at 0%, and the message says why nothing moves yet.
        status, message = "processing", message or "Queued"
    pct = round(progress)
    event: dict[str, Any] = {
        "jobId": job_id,
        "type": "single",
        "status": status,
        "progress": pct,
        "message": message,
        "phase": _PHASE.get(status, status),
        "percent": pct,
        "stage": message,
        "seq": seq if seq is not None else next_seq(),
    }
    if status == "processing":
        # Seconds left, from the pace so far; null until there is a pace to go by.
        event["etaSeconds"] = None if eta_seconds is None else max(0, round(eta_seconds))
    if result is not None:
        event["result"] = result
    if error is not None:
        event["error"] = error
        if code:
            event["code"] = code
    return event


def batch_event(
    job_id: str, status: str, total: int, done: int, failed: int, current: str | None, **extra: Any
) -> dict[str, Any]:
    """A batch's frame: the counts of files done, failed and in all, and the file just finished."""
    pct = 100.0 * done / total if total else (100.0 if status == "completed" else 0.0)
    message = extra.pop("message", None) or f"{done}/{total} files" + (f" ({current})" if current else "")
    event = make_event(job_id, status, pct, message, **extra)
    event.update(
        {
            "type": "batch",
            "totalFiles": total,
            "completedFiles": done - failed,
            "failedFiles": failed,
            "currentFile": current,
        }
    )
    return event


def final_event(job_id: str, status: str, result: dict[str, Any] | None, error: str | None, seq: int) -> dict[str, Any]:
    """A finished job's last frame: the same whether published live or rebuilt from the job's row."""
    summary = result if isinstance(result, dict) else {}
    if "totalFiles" in summary:  # a batch
        total, failed = int(summary["totalFiles"]), int(summary.get("failedFiles", 0))
        extra: dict[str, Any] = {"result": result} if status == "completed" else {"error": error or "Failed"}
        message = "Done" if status == "completed" else None
        return batch_event(job_id, status, total, total, failed, None, seq=seq, message=message, **extra)
    if status == "completed":
        return make_event(job_id, "completed", 100, "Done", result=result, seq=seq)
    code = summary.get("code")
    return make_event(job_id, status, 0, None, error=error or status.capitalize(), code=code, seq=seq)


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._latest: dict[str, dict[str, Any]] = {}

    def publish(self, job_id: str, event: dict[str, Any]) -> None:
        if event.get("status") in TERMINAL:
            # Finished jobs are answered from the database; keep no state for them here.
            self._latest.pop(job_id, None)
        else:
            self._latest[job_id] = event
        self.deliver(job_id, event)

    async def latest(self, job_id: str) -> dict[str, Any] | None:
        return self._latest.get(job_id)

    def deliver(self, job_id: str, event: dict[str, Any]) -> None:
        """Hands an event to this process's subscribers only."""
        for queue in self._subscribers.get(job_id, ()):
            queue.put_nowait(event)

    def subscribe(self, job_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.setdefault(job_id, set()).add(queue)
        return queue

    def unsubscribe(self, job_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        subs = self._subscribers.get(job_id)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subscribers[job_id]
