"""Executes jobs on a pool of worker processes: bounded concurrency, time limits, real cancellation,
and crash isolation. Async on the outside; the tools' blocking work happens in the workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from app import __version__
from app.engine.spec import JobSpec, Outcome
from app.engine.worker import WorkerProcess

log = logging.getLogger("lutra.runner")
ProgressCallback = Callable[[float, str | None], None]
CANCEL_GRACE_S = 2.0


class Runner:
    def __init__(
        self,
        concurrency: int,
        idle_timeout_s: float = 300.0,
        ai_idle_timeout_s: float = 60.0,
        spare_idle_timeout_s: float = 20.0,
    ) -> None:
        self.concurrency = concurrency
        self.idle_timeout_s = idle_timeout_s
        # Workers that ran AI hold models, runtimes and allocator pools (GBs after an upscale): they go
        # sooner, so the memory returns to the system within about a minute of the last AI job.
        self.ai_idle_timeout_s = min(ai_idle_timeout_s, idle_timeout_s)
        # A burst needs several workers, a quiet server one: the extra ones (each ~75 MB with libvips)
        # go after this long without jobs; the most recently used stays warm for idle_timeout_s.
        self.spare_idle_timeout_s = min(spare_idle_timeout_s, idle_timeout_s)
        self._slots = asyncio.Semaphore(concurrency)
        self._idle: list[WorkerProcess] = []
        self._active: dict[str, WorkerProcess] = {}
        self._cancel_requested: set[str] = set()
        self._waiting = 0
        self._reaper: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap_idle())

    async def close(self) -> None:
        if self._reaper:
            self._reaper.cancel()
        for worker in list(self._active.values()):
            worker.kill()
        for worker in self._idle:
            await asyncio.to_thread(worker.stop)
        self._idle.clear()

    async def _reap_idle(self) -> None:
        """Idle workers exit after a while, so an idle server stays small."""
        while True:
            await asyncio.sleep(min(30.0, self.ai_idle_timeout_s / 2, self.spare_idle_timeout_s / 4))
            await self.reap_idle()

    async def reap_idle(self, now: float | None = None) -> None:
        """Stops the idle workers past their idle time: shorter for the ones that ran AI, and for all
        but the most recently used (the spares a burst started)."""
        now = time.monotonic() if now is None else now
        newest = max(self._idle, key=lambda w: w.last_used, default=None)
        for worker in list(self._idle):
            limit = self.idle_timeout_s if worker is newest else self.spare_idle_timeout_s
            if worker.holds_ai:
                limit = min(limit, self.ai_idle_timeout_s)
            if now - worker.last_used > limit or not worker.alive:
                self._idle.remove(worker)  # out of the pool first: a job arriving meanwhile starts a fresh one
                await asyncio.to_thread(worker.stop)

    def stats(self) -> dict[str, int]:
        return {
            "active": len(self._active),
            "pending": self._waiting,
            "concurrency": self.concurrency,
            "workers": len(self._active) + len(self._idle),
        }

    async def cluster_status(self) -> dict[str, Any]:
        """Who runs jobs: here the server itself is the one worker, and its queue is the waiting jobs."""
        stats = self.stats()
        worker = {
            "name": "embedded",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "queues": ["local"],
            "concurrency": self.concurrency,
            "runningJobs": sorted(self._active),
            "heartbeat": time.time(),
            "version": __version__,
        }
        return {"workers": [worker], "queues": {"local": stats["pending"]}}

    # -- running -------------------------------------------------------------

    async def ensure_workers(self) -> None:
        """The executor seam's admission check; the local pool is always there."""

    async def run(
        self,
        spec: JobSpec,
        on_progress: ProgressCallback,
        on_start: Callable[[], None] | None = None,
        start_within: float | None = None,  # the Celery executor's bound; a local slot always frees up
    ) -> Outcome:
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            if spec.job_id in self._cancel_requested:
                return Outcome("canceled", error="Canceled", code="CANCELED")
            if on_start:
                on_start()
            worker = await self._checkout()
            self._active[spec.job_id] = worker
            try:
                return await asyncio.wait_for(self._drive(worker, spec, on_progress), spec.timeout_s)
            except TimeoutError:
                worker.kill()
                return Outcome("failed", error=f"Timed out after {int(spec.timeout_s)} s", code="TIMEOUT")
            finally:
                self._active.pop(spec.job_id, None)
                self._checkin(worker)
        finally:
            self._cancel_requested.discard(spec.job_id)
            self._slots.release()

    async def _checkout(self) -> WorkerProcess:
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
        return await asyncio.to_thread(_start_worker)

    def _checkin(self, worker: WorkerProcess) -> None:
        if worker.alive and not worker.cancel_sent:
            worker.last_used = time.monotonic()
            self._idle.append(worker)
        else:
            worker.kill()  # a worker that was asked to cancel may be mid-way through anything: never reuse it

    async def _drive(self, worker: WorkerProcess, spec: JobSpec, on_progress: ProgressCallback) -> Outcome:
        worker.conn.send(spec)
        while True:
            try:
                message = await _receive(worker.conn)
            except (EOFError, OSError):
                code = worker.process.poll()
                if spec.job_id in self._cancel_requested:
                    return Outcome("canceled", error="Canceled", code="CANCELED")
                log.error("worker for job %s died (exit code %s)", spec.job_id, code)
                worker.kill()
                return Outcome("failed", error="The tool crashed while processing this input", code="CRASHED")
            kind = message[0]
            if kind == "progress":
                on_progress(message[1], message[2])
            elif kind == "done":
                worker.holds_ai = bool(message[2]) if len(message) > 2 else worker.holds_ai
                return message[1]

    async def cancel_requested(self, job_id: str) -> bool:
        """The executor seam's shared cancel flag: one process here, where the JobService's own record
        is the whole truth, so nothing else to ask."""
        return False

    def cancel(self, job_id: str) -> bool:
        """Asks a queued or running job to stop; a running one is killed if it doesn't stop in time."""
        self._cancel_requested.add(job_id)
        worker = self._active.get(job_id)
        if worker is None:
            return True
        worker.request_cancel()
        asyncio.get_running_loop().call_later(CANCEL_GRACE_S, _kill_if_busy, self, job_id, worker)
        return True


def _start_worker() -> WorkerProcess:
    worker = WorkerProcess()
    worker.wait_ready()
    return worker


def _kill_if_busy(runner: Runner, job_id: str, worker: WorkerProcess) -> None:
    if runner._active.get(job_id) is worker:
        # _drive is awaiting this worker's connection: it sees end-of-file and reports the cancel.
        worker.kill(close_conn=False)


async def _receive(conn: Connection) -> object:
    """Waits for the worker's next message without blocking the event loop or holding a thread."""
    if not conn.poll():
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = conn.fileno()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            with contextlib.suppress(Exception):
                loop.remove_reader(fd)
    return conn.recv()
