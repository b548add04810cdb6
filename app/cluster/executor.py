"""The Celery side of the executor seam: same `run(spec, on_progress) -> Outcome` and `cancel(job_id)`
as the local Runner, but the job runs on whichever `lutra worker` takes the task.

The node registers a waiter, sends the task with its reply channel, and the worker answers there
(started / progress / done). A poll every couple of seconds reads the outcome and cancel keys too,
so a reply lost while Redis reconnected, or a cancel made through another node, is still seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import Celery

from app.cluster import keys, workers
from app.cluster.bus import RedisHub
from app.cluster.codec import outcome_from_dict, spec_to_dict
from app.cluster.connection import UNAVAILABLE, QueueUnavailable
from app.cluster.queue import INSTALL_TASK, RUN_TASK
from app.config import Settings
from app.engine import registry
from app.engine.spec import JobSpec, Outcome
from app.errors import LutraError

log = logging.getLogger("lutra.cluster")
ProgressCallback = Callable[[float, str | None], None]
POLL_S = 2.0
# Beyond the tool's own limit (which the worker enforces): time for the reply to come back.
REPLY_SLACK_S = 30.0
# A kombu publish retried once, quickly: a lost Redis answers 503 in about a second, not minutes.
REQUEUED_MESSAGE = "Queued again: its worker stopped before finishing it"
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.3, "interval_max": 0.5}


class NoWorkers(LutraError):
    status, code = 503, "NO_WORKERS"


def parent_of(job_id: str) -> str | None:
    """A batch item's id is `<batch id>.<index>`: cancelling the batch cancels its items."""
    return job_id.rsplit(".", 1)[0] if "." in job_id else None


def cancel_keys(job_id: str) -> list[str]:
    parent = parent_of(job_id)
    return [keys.CANCEL + job_id] + ([keys.CANCEL + parent] if parent else [])


def pick_queue(tool_ids: list[str], online: list[dict[str, Any]]) -> str:
    """AI tools (their models run on ONNX Runtime, CUDA first) go to the `gpu` queue when a worker
    online serves it; everything else, and AI tools when no GPU worker is up, to `default`."""
    wants_gpu = any((t := registry.get(tool_id)) is not None and t.feature for tool_id in tool_ids)
    if wants_gpu and any("gpu" in w.get("queues", []) for w in online):
        return "gpu"
    return "default"


@dataclass
class _Waiter:
    future: asyncio.Future[Outcome]
    on_progress: ProgressCallback
    on_start: Callable[[], None] | None
    started_at: float | None = None
    worker: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class CeleryExecutor:
    def __init__(self, settings: Settings, hub: RedisHub, celery: Celery, node_id: str) -> None:
        self.settings = settings
        self.hub = hub
        self.celery = celery
        self.node_id = node_id
        self._waiting: dict[str, _Waiter] = {}
        self._workers: list[dict[str, Any]] = []
        self._refresher: asyncio.Task[None] | None = None
        hub.on_reply = self._on_reply

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_workers())

    async def close(self) -> None:
        if self._refresher:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)

    async def _refresh_workers(self) -> None:
        while True:
            with contextlib.suppress(*UNAVAILABLE):
                self._workers = await workers.online(self.hub.client)
            await asyncio.sleep(2.0)

    @property
    def concurrency(self) -> int:
        """How many jobs the workers online can run at once (a batch feeds them this many at a time)."""
        return max(2, sum(int(w.get("concurrency", 1)) for w in self._workers))

    async def workers_online(self) -> list[dict[str, Any]]:
        self._workers = await workers.online(self.hub.client)
        return self._workers

    async def ensure_workers(self) -> None:
        """For an answer in the same request: a worker must be online, else 503 NO_WORKERS after WORKER_WAIT_S."""
        if self._workers:
            return  # seen online within the last refresh (2 s): no Redis round trip per request
        deadline = time.monotonic() + self.settings.worker_wait_s
        while True:
            try:
                if await self.workers_online():
                    return
            except UNAVAILABLE as exc:
                raise QueueUnavailable() from exc
            if time.monotonic() >= deadline:
                raise NoWorkers(
                    f"No worker is online to run this tool (waited {self.settings.worker_wait_s} s); "
                    "start `lutra worker` or try again later",
                    headers={"Retry-After": str(max(5, self.settings.worker_wait_s))},
                )
            await asyncio.sleep(0.5)

    async def cluster_status(self) -> dict[str, Any]:
        """The workers online (each with its queues, concurrency, running jobs, last heartbeat) and queue depths."""
        try:
            found = await self.workers_online()
            return {"workers": found, "queues": await workers.queue_depths(self.hub.client)}
        except UNAVAILABLE as exc:
            raise QueueUnavailable() from exc

    def stats(self) -> dict[str, int]:
        running = sum(1 for w in self._waiting.values() if w.started_at is not None)
        return {
            "active": running,
            "pending": len(self._waiting) - running,
            "concurrency": self.concurrency,
            "workers": len(self._workers),
        }

    # -- running -------------------------------------------------------------------

    def queue_for(self, spec: JobSpec) -> str:
        return pick_queue([s.tool_id for s in spec.steps], self._workers)

    async def run(
        self,
        spec: JobSpec,
        on_progress: ProgressCallback,
        on_start: Callable[[], None] | None = None,
        start_within: float | None = None,
    ) -> Outcome:
        args = (spec_to_dict(spec), self.hub.node_channel)
        queue = self.queue_for(spec)
        return await self._submit(
            spec.job_id, RUN_TASK, args, queue, on_progress, on_start, start_within, spec.timeout_s
        )

    async def run_install(
        self, job_id: str, bundle_id: str, only: list[str] | None, on_progress: ProgressCallback
    ) -> Outcome:
        """A model install as a worker task: the files land in the shared models folder."""
        args = (job_id, bundle_id, only, self.hub.node_channel)
        return await self._submit(job_id, INSTALL_TASK, args, "default", on_progress, None, None, None)

    async def _submit(
        self,
        job_id: str,
        task: str,
        args: tuple[Any, ...],
        queue: str,
        on_progress: ProgressCallback,
        on_start: Callable[[], None] | None,
        start_within: float | None,
        timeout_s: float | None,
    ) -> Outcome:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future(), on_progress, on_start)
        self._waiting[job_id] = waiter
        try:
            try:
                await asyncio.to_thread(
                    self.celery.send_task, task, args=args, queue=queue, retry=True, retry_policy=PUBLISH_RETRY
                )
            except Exception as exc:  # kombu wraps a lost broker in several exception types
                log.warning("could not queue job %s: %s", job_id, exc)
                raise QueueUnavailable() from exc
            return await self._wait(job_id, waiter, start_within, timeout_s)
        finally:
            self._waiting.pop(job_id, None)

    async def _wait(self, job_id: str, waiter: _Waiter, start_within: float | None, timeout_s: float | None) -> Outcome:
        sent = time.monotonic()
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(waiter.future), POLL_S)
            except TimeoutError:
                pass
            outcome = await self._poll(job_id, waiter)
            if outcome is not None:
                return outcome
            now = time.monotonic()
            if waiter.started_at is None and start_within is not None and now - sent > start_within:
                await self._set_cancel(job_id)
                return Outcome(
                    "failed",
                    error=f"No worker started this job within {int(start_within)} s; try again later",
                    http_status=503,
                    code="NO_WORKERS",
                )
            started = waiter.started_at
            if started is not None and timeout_s is not None and now - started > timeout_s + REPLY_SLACK_S:
                await self._set_cancel(job_id)
                return Outcome("failed", error=f"Timed out after {int(timeout_s)} s", code="TIMEOUT")

    async def _poll(self, job_id: str, waiter: _Waiter) -> Outcome | None:
        """The fallback path: an outcome stored by a worker or the reaper, or a cancel from another node."""
        names = [keys.OUTCOME + job_id, *cancel_keys(job_id)]
        try:
            stored, *cancels = await self.hub.client.mget(names)
        except UNAVAILABLE:
            return None  # keep waiting: the worker still runs, and Redis may come back
        if stored:
            return outcome_from_dict(json.loads(stored))
        if any(cancels) and waiter.started_at is None:
            # Queued and cancelled elsewhere: answer now; a worker that takes the task skips it.
            return Outcome("canceled", error="Canceled", code="CANCELED")
        return None

    def _on_reply(self, message: dict[str, Any]) -> None:
        waiter = self._waiting.get(message.get("job", ""))
        if waiter is None or waiter.future.done():
            return
        kind = message.get("type")
        if kind == "started":
            waiter.started_at = time.monotonic()
            waiter.worker = message.get("worker")
            if waiter.on_start:
                waiter.on_start()
        elif kind == "progress":
            waiter.on_progress(float(message.get("pct", 0)), message.get("message"))
        elif kind == "requeued":
            # A stopping worker handed the job back to the queue: it waits for the next worker, and
            # its stream says so instead of showing the stopped run's last progress.
            waiter.started_at = None
            waiter.worker = None
            waiter.on_progress(0.0, REQUEUED_MESSAGE)
        elif kind == "done":
            waiter.future.set_result(outcome_from_dict(message["outcome"]))

    async def cancel_requested(self, job_id: str) -> bool:
        """Whether any API node cancelled the job (or its batch): the cancel flag in Redis."""
        try:
            return any(await self.hub.client.mget(cancel_keys(job_id)))
        except UNAVAILABLE:
            return False  # the items' own waits still see the flag once Redis is back

    def cancel(self, job_id: str) -> bool:
        """Marks the job cancelled in Redis: the worker running it (on any node) stops it."""
        if not self.hub.connected.is_set():
            raise QueueUnavailable()
        waiter = self._waiting.get(job_id)
        if waiter is not None and waiter.started_at is None and not waiter.future.done():
            waiter.future.set_result(Outcome("canceled", error="Canceled", code="CANCELED"))
        task = asyncio.get_running_loop().create_task(self._set_cancel(job_id))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return True

    async def _set_cancel(self, job_id: str) -> None:
        try:
            await self.hub.client.set(keys.CANCEL + job_id, "1", ex=int(self.settings.job_timeout_s) + 3600)
        except UNAVAILABLE as exc:
            self.hub.warn("cancelling a job", exc)
