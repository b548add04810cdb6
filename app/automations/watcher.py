"""The automation loop: notices files (inotify through watchfiles, and a periodic scan for network shares),
waits until each has stopped changing, claims it in the database and hands it to the processor; fires
schedules. One loop per deployment (in the scaled mode, the node holding the lease)."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, select

from app.audit.service import record
from app.automations import service as store
from app.automations.paths import is_candidate_name
from app.automations.processor import Plan, after_success, process_file
from app.db import session_scope
from app.jobs.service import JobService
from app.models import Automation, AutomationRun

log = logging.getLogger("lutra.automations")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


FINISH_ON_SHUTDOWN_S = 10.0


class Active:
    """An enabled automation as the loop sees it on one pass."""

    def __init__(self, row: Automation, plan: Plan) -> None:
        self.id = row.id
        self.plan = plan
        self.trigger = row.trigger
        self.globs = [g.lower() for g in (row.globs or ["*"])]
        self.min_age_s = row.min_age_s
        self.row = row


def _matches(name: str, globs: list[str]) -> bool:
    lowered = name.lower()
    return is_candidate_name(name) and any(fnmatch.fnmatchcase(lowered, g) for g in globs)


def list_files(folder: Path, globs: list[str]) -> list[store.Seen]:
    """Regular files directly in the folder (no symlinks: they could lead out of WATCH_ROOT)."""
    found: list[store.Seen] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        try:
            if not entry.is_file(follow_symlinks=False) or not _matches(entry.name, globs):
                continue
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        found.append(store.Seen(entry.name, stat.st_size, stat.st_mtime_ns))
    return found


class AutomationManager:
    def __init__(self, jobs: JobService, clock: Clock = utc_now) -> None:
        self.jobs = jobs
        self.clock = clock
        self.scan_interval_s = float(jobs.settings.automation_scan_interval_s)
        self._wake = asyncio.Event()
        # (automation, name) -> (size, mtime, when first seen so): a file is ready once unchanged min_age.
        self._seen: dict[tuple[str, str], tuple[int, int, float]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._slots = asyncio.Semaphore(max(2, jobs.settings.job_concurrency * 2))
        self._watching: frozenset[Path] = frozenset()
        self._watch_task: asyncio.Task[None] | None = None
        self._watch_stop: asyncio.Event | None = None
        self.passes = 0  # loop passes completed (tests wait on it)

    def wake(self) -> None:
        self._wake.set()

    # -- the loop ----------------------------------------------------------------------

    async def run_forever(self) -> None:
        await run_in_threadpool(self._recover)
        while True:
            timeout = self.scan_interval_s
            try:
                active = await run_in_threadpool(self._load_active)
                await self._watch({a.plan.source for a in active if a.trigger == "watch"})
                for a in active:
                    if a.trigger == "watch":
                        _, wait = await self._scan(a, observed=True)
                        if wait is not None:
                            timeout = min(timeout, wait)
                    else:
                        wait = await self._maybe_fire(a)
                        if wait is not None:
                            timeout = min(timeout, wait)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("automation pass failed")
            self.passes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.05, timeout))
            self._wake.clear()

    async def close(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()
        if self._tasks:
            # Files in progress finish first: cut between writing the output and marking the run done,
            # a file was taken again after the restart and written twice. Bounded: a shutdown never hangs.
            await asyncio.wait(list(self._tasks), timeout=FINISH_ON_SHUTDOWN_S)
        tasks = [t for t in (self._watch_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            # Bounded: the file watcher's thread notices its stop event within a step, but a shutdown
            # must never hang on it.
            await asyncio.wait(tasks, timeout=5)

    # -- database -------------------------------------------------------------------------

    def _recover(self) -> None:
        """Runs a previous process left unfinished: their inputs are still in place, so they are taken again."""
        with session_scope() as db:
            gone = db.execute(delete(AutomationRun).where(AutomationRun.status.in_(("queued", "processing"))))
            if gone.rowcount:
                log.info("automations: %d files interrupted by the last shutdown will be taken again", gone.rowcount)

    def _load_active(self) -> list[Active]:
        active: list[Active] = []
        with session_scope() as db:
            for row in db.scalars(select(Automation).where(Automation.enabled.is_(True))):
                plan = store.plan_for(db, row)
                if isinstance(plan, str):
                    row.enabled = False
                    row.disabled_reason = plan
                    record(
                        db,
                        "AUTOMATION_DISABLED",
                        target_type="automation",
                        target_id=row.id,
                        details={"name": row.name, "reason": plan},
                    )
                    log.warning("automation %r disabled: %s", row.name, plan)
                    continue
                active.append(Active(row, plan))
            db.flush()  # before detaching: the rows turned off above must be written
            db.expunge_all()
        return active

    # -- watching ---------------------------------------------------------------------------

    async def _watch(self, folders: set[Path]) -> None:
        """(Re)starts the file-event watcher when the set of source folders changed."""
        wanted = frozenset(f for f in folders if f.is_dir())
        if wanted == self._watching and (self._watch_task is None or not self._watch_task.done()):
            return
        if self._watch_stop is not None:
            self._watch_stop.set()
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
        self._watching = wanted
        self._watch_task = None
        if wanted:
            self._watch_stop = asyncio.Event()
            self._watch_task = asyncio.ensure_future(self._events(wanted, self._watch_stop))

    async def _events(self, folders: frozenset[Path], stop: asyncio.Event) -> None:
        from watchfiles import awatch

        try:
            async for _ in awatch(*folders, stop_event=stop, recursive=False, debounce=200, step=50):
                self.wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # inotify's watch limit, a folder removed: the periodic scan carries on
            log.warning("automations: file events unavailable (%s); scanning every %.0f s", exc, self.scan_interval_s)

    # -- scanning ------------------------------------------------------------------------------

    async def _scan(self, a: Active, *, observed: bool) -> tuple[int, float | None]:
        """Claims the files that are ready; returns how many, and in how many seconds another may be."""
        files = await run_in_threadpool(list_files, a.plan.source, a.globs)
        now_mono, now_wall = time.monotonic(), time.time()
        ready: list[store.Seen] = []
        wait: float | None = None
        present = set()
        for f in files:
            key = (a.id, f.name)
            present.add(key)
            age = now_wall - f.mtime_ns / 1e9
            if observed:
                # Stable = same size and mtime for min_age by our own watch, not only an old mtime:
                # `cp -p` keeps an old mtime while the file still grows.
                first = self._seen.get(key)
                if first is None or first[:2] != (f.size, f.mtime_ns):
                    self._seen[key] = (f.size, f.mtime_ns, now_mono)
                    first = self._seen[key]
                age = min(age, now_mono - first[2])
            if age >= a.min_age_s:
                ready.append(f)
            else:
                left = a.min_age_s - age
                wait = left if wait is None else min(wait, left)
        for key in [k for k in self._seen if k[0] == a.id and k not in present]:
            del self._seen[key]
        claimed, earlier = await run_in_threadpool(store.claim, a.id, ready)
        for f in ready:
            self._seen.pop((a.id, f.name), None)
        for run in earlier:
            if run.status == "completed" and a.plan.after_success != "keep":
                # Finished before a crash, but the input was not moved yet.
                await run_in_threadpool(after_success, a.plan, run.input_name)
        for c in claimed:
            self._start(a.plan, c)
        return len(claimed), wait

    def _start(self, plan: Plan, c: store.Claimed) -> None:
        async def guarded() -> None:
            async with self._slots:
                await process_file(self.jobs, plan, c.run_id, c.name)

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_now(self, automation_id: str) -> int:
        """Takes the files present now (without waiting for file events); returns how many were taken."""
        active = [a for a in await run_in_threadpool(self._load_active) if a.id == automation_id]
        if not active:
            return 0
        taken, _ = await self._scan(active[0], observed=False)
        return taken

    # -- schedules -------------------------------------------------------------------------------

    async def _maybe_fire(self, a: Active) -> float | None:
        now = self.clock()
        due = store.next_fire(a.row, now)
        if due is None:
            return None
        if due > now:
            return (due - now).total_seconds()
        # Missed fire times while the server was down collapse into this one run.
        await run_in_threadpool(_mark_fired, a.id, now)
        await self._scan(a, observed=False)
        return 1.0

    async def idle(self) -> None:
        """Waits until every file taken so far has been processed (tests and shutdown use it)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _mark_fired(automation_id: str, when: datetime) -> None:
    with session_scope() as db:
        row = db.get(Automation, automation_id)
        if row is not None:
            row.last_fired_at = when
