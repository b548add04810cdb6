"""Job progress events: an in-process pub/sub that the SSE route relays.

The interface (publish / subscribe / unsubscribe / latest) is what a Redis pub/sub bus would
implement in the scale-out mode; nothing else in the code talks to the transport.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

TERMINAL = {"completed", "failed", "canceled"}
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
        for queue in self._subscribers.get(job_id, ()):
            queue.put_nowait(event)

    def latest(self, job_id: str) -> dict[str, Any] | None:
        return self._latest.get(job_id)

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
