"""`lutra worker`: a Celery worker whose tasks run Lutra jobs.

Each task drives one of the engine's worker processes (a fresh interpreter in its own process group,
exactly as in the embedded mode), so a crash or a kill ends that job only and cancelling also ends
any ffmpeg or gs it started. The Celery process only moves messages: it uses the threads pool, one
thread per concurrent job, each waiting on its job's process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis

from app import __version__
from app.cluster import heartbeat, keys, workers
from app.cluster.codec import outcome_to_dict, spec_from_dict
from app.cluster.connection import UNAVAILABLE, check_reachable, sync_client
from app.cluster.executor import cancel_keys
from app.cluster.queue import INSTALL_TASK, RUN_TASK, make_celery
from app.config import Settings, get_settings
from app.engine.spec import JobSpec, Outcome
from app.engine.worker import WorkerProcess

log = logging.getLogger("lutra.worker")
CANCEL_CHECK_S = 0.25
CANCEL_GRACE_S = 2.0


class HandedBack(Exception):
    """The worker is stopping: the job went back to the queue for another worker."""


class WorkerNode:
    """This worker's state: its name, Redis, the jobs it runs, and idle engine processes to reuse."""

    def __init__(self, settings: Settings, queues: list[str], concurrency: int) -> None:
        self.settings = settings
        self.queues = queues
        self.concurrency = concurrency
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.redis: redis.Redis = sync_client(settings.redis_url)
        self.celery = make_celery(settings.redis_url)
        self.running: dict[str, tuple[dict[str, Any], str]] = {}
        self.hand_back = threading.Event()
        # Held while a job enters or leaves `running` and while the heartbeat thread beats one, so a
        # beat never lands after the job ended (it would revive a finished or handed-back job).
        self._beat_lock = threading.Lock()
        self._idle: list[WorkerProcess] = []
        # Engine processes die with the thread that started them (PR_SET_PDEATHSIG is per thread), so
        # one thread that lives as long as this process starts them all: never a pool thread, which
        # Celery ends at shutdown while a process it started may be running another thread's job.
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="lutra-spawn")
        self._lock = threading.Lock()
        self.beat_s = max(0.5, min(10.0, settings.job_heartbeat_timeout_s / 4))

    # -- registry --------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "queues": self.queues,
            "concurrency": self.concurrency,
            "runningJobs": sorted(self.running),
            "version": __version__,
        }

    def beat_forever(self, stop: threading.Event) -> None:
        while not stop.wait(keys.WORKER_BEAT_S):
            with contextlib.suppress(*UNAVAILABLE):
                workers.beat(self.redis, self.name, self.describe())

    def beat_jobs_forever(self, stop: threading.Event) -> None:
        """The running jobs' heartbeats come from this thread: they say the process is alive, and keep
        coming while a job waits for its engine process to start."""
        while not stop.wait(self.beat_s):
            for job_id in list(self.running):
                with self._beat_lock:
                    entry = self.running.get(job_id)
                    if entry is not None:
                        self._beat(job_id, entry[1])

    def prestart(self) -> None:
        """Starts `concurrency` engine processes at once (in parallel), so the first jobs don't wait."""
        started = [self._spawner.submit(WorkerProcess).result() for _ in range(self.concurrency)]
        for proc in started:
            try:
                proc.wait_ready()
            except EOFError:
                proc.kill()
                continue
            self._idle.append(proc)

    # -- engine processes ------------------------------------------------------------

    def checkout(self) -> WorkerProcess:
        with self._lock:
            while self._idle:
                proc = self._idle.pop()
                if proc.alive:
                    return proc
        proc = self._spawner.submit(WorkerProcess).result()
        proc.wait_ready()
        return proc

    def checkin(self, proc: WorkerProcess) -> None:
        if proc.alive and not proc.cancel_sent:
            with self._lock:
                self._idle.append(proc)
        else:
            proc.kill()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for proc in idle:
            proc.stop()

    # -- replies -----------------------------------------------------------------------

    def reply(self, reply_to: str, message: dict[str, Any]) -> None:
        with contextlib.suppress(*UNAVAILABLE):
            self.redis.publish(reply_to, json.dumps(message, separators=(",", ":")))

    def finish(self, job_id: str, reply_to: str, outcome: Outcome) -> None:
        data = outcome_to_dict(outcome)
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(keys.OUTCOME + job_id, json.dumps(data), ex=keys.OUTCOME_TTL_S)
                pipe.hdel(keys.RUNNING, job_id)
                pipe.publish(reply_to, json.dumps({"type": "done", "job": job_id, "outcome": data}))
                pipe.execute()
        except UNAVAILABLE as exc:
            log.warning("could not report job %s: %s", job_id, exc)

    def cancelled(self, job_id: str) -> bool:
        try:
            return any(self.redis.mget(cancel_keys(job_id)))
        except UNAVAILABLE:
            return False

    # -- the task ----------------------------------------------------------------------

    def run_task(self, spec_data: dict[str, Any], reply_to: str) -> None:
        spec = spec_from_dict(spec_data)
        job_id = spec.job_id
        if self.hand_back.is_set():
            self._requeue(spec_data, reply_to)
            return
        if self.cancelled(job_id):
            self.finish(job_id, reply_to, Outcome("canceled", error="Canceled", code="CANCELED"))
            return
        # The row gets a heartbeat at once, even for a job shorter than one heartbeat period: should
        # the API node waiting for it die too, the reaper still ends the row instead of leaving it queued.
        self._enter(job_id, spec_data, reply_to)
        self.reply(reply_to, {"type": "started", "job": job_id, "worker": self.name})
        try:
            outcome = self._run(spec, reply_to)
        except HandedBack:
            self._requeue(spec_data, reply_to)
            return
        finally:
            self._leave(job_id)
        self.finish(job_id, reply_to, outcome)

    def run_install(self, job_id: str, bundle_id: str, only: list[str] | None, reply_to: str) -> None:
        """Downloads a bundle's models into the models folder that every node shares."""
        from app.engine.ai import bundles, install

        bundle = bundles.get_bundle(bundle_id)
        if bundle is None:
            self.finish(job_id, reply_to, Outcome("failed", error=f"Unknown bundle {bundle_id}", code="NOT_FOUND"))
            return
        self._enter(job_id, {"job_id": job_id}, reply_to)
        self.reply(reply_to, {"type": "started", "job": job_id, "worker": self.name})
        total = bundle.download_size(only) or 1
        checked = [0.0, False]

        def progress(done: int, message: str) -> None:
            self.reply(reply_to, {"type": "progress", "job": job_id, "pct": 100.0 * done / total, "message": message})

        def cancelled() -> bool:
            now = time.monotonic()  # asked per downloaded chunk: Redis is read at most 4 times a second
            if now - checked[0] >= CANCEL_CHECK_S:
                checked[0], checked[1] = now, self.cancelled(job_id)
            return bool(checked[1])

        try:
            installed = install.install_bundle(bundle, self.settings.model_mirror_url, progress, cancelled, only)
            outcome = Outcome("completed", data={"installedModels": installed})
        except install.InstallError as exc:
            if cancelled():
                outcome = Outcome("canceled", error="Canceled", code="CANCELED")
            else:
                outcome = Outcome("failed", error=str(exc), code="INSTALL_FAILED")
        finally:
            self._leave(job_id)
        self.finish(job_id, reply_to, outcome)

    def _enter(self, job_id: str, spec_data: dict[str, Any], reply_to: str) -> None:
        with self._beat_lock:
            self.running[job_id] = (spec_data, reply_to)
            self._beat(job_id, reply_to)

    def _leave(self, job_id: str) -> None:
        with self._beat_lock:
            self.running.pop(job_id, None)
            with contextlib.suppress(*UNAVAILABLE):
                self.redis.hdel(keys.RUNNING, job_id)

    def _requeue(self, spec_data: dict[str, Any], reply_to: str) -> None:
        job_id = spec_data["job_id"]
        self._leave(job_id)
        with contextlib.suppress(Exception):
            heartbeat.beat_row(job_id, None)  # no heartbeat while queued again: the reaper leaves it alone
        # Said before the task is sent again, so the next worker's "started" always comes after it.
        self.reply(reply_to, {"type": "requeued", "job": job_id})
        self.celery.send_task(RUN_TASK, args=(spec_data, reply_to), queue=self.queues[0])
        log.info("job %s handed back to the queue", job_id)

    def _beat(self, job_id: str, reply_to: str) -> None:
        with contextlib.suppress(*UNAVAILABLE):
            heartbeat.beat_running(self.redis, job_id, self.name, reply_to)
        try:
            heartbeat.beat_row(job_id, self.name)
        except Exception as exc:  # a database blip must not end a running job
            log.warning("heartbeat of job %s not written: %s", job_id, exc)

    def _run(self, spec: JobSpec, reply_to: str) -> Outcome:
        proc = self.checkout()
        try:
            return self._drive(proc, spec, reply_to)
        finally:
            self.checkin(proc)

    def _drive(self, proc: WorkerProcess, spec: JobSpec, reply_to: str) -> Outcome:
        job_id = spec.job_id
        start = time.monotonic()
        deadline = start + spec.timeout_s
        next_check = start
        kill_at: float | None = None
        proc.conn.send(spec)
        while True:
            if proc.conn.poll(CANCEL_CHECK_S):
                try:
                    message = proc.conn.recv()
                except (EOFError, OSError):
                    if proc.cancel_sent:
                        return Outcome("canceled", error="Canceled", code="CANCELED")
                    log.error("engine process for job %s died (exit code %s)", job_id, proc.process.poll())
                    proc.kill()
                    return Outcome("failed", error="The tool crashed while processing this input", code="CRASHED")
                if message[0] == "progress":
                    self.reply(reply_to, {"type": "progress", "job": job_id, "pct": message[1], "message": message[2]})
                elif message[0] == "done":
                    return message[1]
            now = time.monotonic()
            if now >= deadline:
                proc.kill()
                return Outcome("failed", error=f"Timed out after {int(spec.timeout_s)} s", code="TIMEOUT")
            if self.hand_back.is_set():
                proc.kill()
                raise HandedBack
            if kill_at is not None and now >= kill_at:
                proc.kill()  # ignored the cancel: the whole process group goes
                return Outcome("canceled", error="Canceled", code="CANCELED")
            if kill_at is None and now >= next_check:
                next_check = now + CANCEL_CHECK_S
                if self.cancelled(job_id):
                    proc.request_cancel()
                    kill_at = now + CANCEL_GRACE_S


def _version_problem(settings: Settings, client: redis.Redis) -> str | None:
    """Why this worker must not run jobs for this cluster (another Lutra version), or None."""
    from app.migrate import database_revisions, head_revisions

    api_version = client.get(keys.VERSION)
    if api_version and api_version != __version__:
        return f"Lutra worker {__version__} refuses to start: the API nodes run Lutra {api_version}"
    ours = head_revisions()
    try:
        theirs = database_revisions(settings.sqlalchemy_url)
    except Exception as exc:  # unreachable, wrong credentials, no such database: one line, no traceback
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"Lutra worker cannot read the database at DATABASE_URL ({reason})"
    if theirs != ours:
        shown = ", ".join(sorted(theirs)) or "empty"
        return (
            f"Lutra worker {__version__} refuses to start: the database schema is at revision {shown}, "
            f"this worker needs {', '.join(sorted(ours))} (run `lutra migrate` or update this worker)"
        )
    return None


def main(concurrency: int, queues: list[str], loglevel: str = "INFO") -> None:
    settings = get_settings()
    if not settings.redis_url:
        sys.exit("lutra worker needs REDIS_URL (the Redis that the API nodes use)")
    problem = check_reachable(settings.redis_url)
    if problem:
        sys.exit(problem)
    problem = _version_problem(settings, sync_client(settings.redis_url))
    if problem:
        sys.exit(problem)
    from app.db import init_engine

    init_engine(settings.sqlalchemy_url)
    # Engine processes die with this process (Linux), so a killed worker leaves no job behind running.
    os.environ["LUTRA_DIE_WITH_PARENT"] = "1"
    node = WorkerNode(settings, queues, concurrency)
    node.celery.task(name=RUN_TASK, ignore_result=True)(node.run_task)
    node.celery.task(name=INSTALL_TASK, ignore_result=True)(node.run_install)
    node.prestart()
    stop = threading.Event()
    workers.beat(node.redis, node.name, node.describe())
    threading.Thread(target=node.beat_forever, args=(stop,), daemon=True, name="lutra-beat").start()
    threading.Thread(target=node.beat_jobs_forever, args=(stop,), daemon=True, name="lutra-job-beat").start()
    _install_stop_handling(node, settings.worker_stop_grace_s)
    log.info("Lutra worker %s: queues %s, concurrency %d", node.name, ",".join(queues), concurrency)
    try:
        node.celery.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                f"--queues={','.join(queues)}",
                f"--hostname=lutra-{os.getpid()}@{socket.gethostname()}",
                f"--loglevel={loglevel}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        stop.set()
        with contextlib.suppress(*UNAVAILABLE):
            workers.leave(node.redis, node.name)
        node.close()


def _install_stop_handling(node: WorkerNode, grace_s: int) -> None:
    """SIGTERM: Celery's warm shutdown (no new task, running ones finish); after WORKER_STOP_GRACE_S,
    or at once on a second signal, running jobs are stopped and handed back to the queue."""
    from celery.signals import worker_ready

    def on_ready(**_: object) -> None:
        celery_handler = signal.getsignal(signal.SIGTERM)
        signals_seen = [0]

        def on_term(signum: int, frame: Any) -> None:
            signals_seen[0] += 1
            if signals_seen[0] == 1:
                timer = threading.Timer(grace_s, node.hand_back.set)
                timer.daemon = True
                timer.start()
            else:
                node.hand_back.set()
            if callable(celery_handler):
                celery_handler(signum, frame)

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)

    worker_ready.connect(on_ready, weak=False)
