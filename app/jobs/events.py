"""Job progress events: an in-process pub/sub that the SSE route relays.

The interface (publish / subscribe / unsubscribe / latest) is also implemented by the Redis bus of
the scaled mode (app.cluster.bus); nothing else in the code talks to the transport. `latest` is a
coroutine because there it is a Redis read.
"""

from __future__ import annotations

import asyncio
from typing import Any

TERMINAL = {"completed", "failed", "canceled"}
_PHASE = {
    "queued": "processing",
    "processing": "processing",
    "completed": "complete",
    "failed": "failed",
    "canceled": "canceled",
}


def make_event(
    job_id: str,
    status: str,
    progress: float,
    message: str | None = None,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    code: str | None = None,
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
