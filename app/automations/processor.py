"""One file taken by an automation, run as an ordinary job of the automation's owner.

The order of the steps is what makes a crash harmless: the input is copied into the job's workspace,
the results are written under a temporary name, flushed and renamed, the run is marked done, and only
then is the input moved or deleted. A restart finds either an unfinished run (the input is still in
place and is taken again) or a finished one (only the move is left to do).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update

from app.automations.paths import DONE_DIR, FAILED_DIR
from app.db import session_scope
from app.engine.media.names import free_name
from app.engine.spec import Step
from app.engine.tool import Tool
from app.errors import LutraError
from app.jobs.service import JobService, check_uploads
from app.jobs.uploads import UploadedFile
from app.models import AutomationRun

log = logging.getLogger("lutra.automations")


@dataclass(frozen=True)
class Plan:
    """An automation as the processor needs it, detached from the database session."""

    id: str
    user_id: str
    source: Path
    output: Path
    naming: str
    on_conflict: str  # suffix | overwrite | skip
    after_success: str  # keep | move | delete
    steps: tuple[Step, ...]
    tools: tuple[Tool, ...]

    @property
    def last_tool(self) -> str:
        return self.steps[-1].tool_id


class RunFailed(Exception):
    """A file the automation could not process; the message is shown to the user as is."""


def update_run(run_id: str, **values: Any) -> None:
    with session_scope() as db:
        db.execute(update(AutomationRun).where(AutomationRun.id == run_id).values(**values))


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link costs nothing and survives the input being moved; other file systems get a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def output_name(plan: Plan, input_name: str, produced: Path, index: int, count: int) -> str:
    # One result keeps the input's stem; several (split tools) keep their own, so they stay apart.
    stem = Path(input_name).stem if count == 1 else produced.stem
    name = plan.naming.format(stem=stem, tool=plan.last_tool, ext=produced.suffix.lstrip("."), name=input_name)
    return name if name.strip(". ") else f"{stem}_{index}{produced.suffix}"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(produced: Path, folder: Path, name: str, on_conflict: str) -> Path | None:
    """Copies a result into place under a temporary name, flushes it and renames it; None when skipped."""
    folder.mkdir(parents=True, exist_ok=True)
    if on_conflict == "skip" and (folder / name).exists():
        return None
    temp = folder / f".{name}.lutra-part"
    with produced.open("rb") as src, temp.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
        dst.flush()
        os.fsync(dst.fileno())
    try:
        if on_conflict == "overwrite":
            target = folder / name
            os.replace(temp, target)
        else:
            # link() refuses an existing name, so two writers never take the same one.
            while True:
                target = free_name(folder, name)
                try:
                    os.link(temp, target)
                    break
                except FileExistsError:
                    continue
            temp.unlink()
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(folder)
    return target


def after_success(plan: Plan, name: str) -> None:
    source = plan.source / name
    if not source.exists():
        return
    if plan.after_success == "delete":
        source.unlink()
    elif plan.after_success == "move":
        done = plan.source / DONE_DIR
        done.mkdir(exist_ok=True)
        os.replace(source, free_name(done, name))


def set_aside_failed(plan: Plan, name: str, error: str) -> None:
    """Moves a failed input to failed/ with a .error.txt beside it saying why."""
    source = plan.source / name
    failed = plan.source / FAILED_DIR
    failed.mkdir(exist_ok=True)
    target = free_name(failed, name)
    if source.exists():
        os.replace(source, target)
    (failed / f"{target.name}.error.txt").write_text(error + "\n", encoding="utf-8")


async def _run_job(service: JobService, plan: Plan, run_id: str, name: str) -> list[Path]:
    """Runs the steps on one file as a job of the owner; returns the produced files."""
    job_id = service.new_id()
    copy = service.workspace(job_id) / "in" / name
    try:
        await run_in_threadpool(_link_or_copy, plan.source / name, copy)
    except FileNotFoundError as exc:
        raise RunFailed("The file disappeared before it could be read") from exc
    upload = UploadedFile(field="file", filename=name, path=copy, size=copy.stat().st_size, original=name)
    try:
        checked = await check_uploads(plan.tools[0], [upload], {}, service.settings)
    except LutraError as exc:
        shutil.rmtree(service.workspace(job_id), ignore_errors=True)
        raise RunFailed(exc.message) from exc
    single = len(plan.steps) == 1
    settings: dict[str, Any] = (
        dict(plan.steps[0].settings)
        if single
        else {"steps": [{"toolId": s.tool_id, "settings": s.settings} for s in plan.steps]}
    )
    settings["automationId"] = plan.id
    await service.create(
        job_id,
        plan.user_id,
        "tool" if single else "pipeline",
        plan.tools[0] if single else None,
        settings,
        checked.total_bytes,
    )
    await run_in_threadpool(update_run, run_id, job_id=job_id)
    timeout = sum(t.timeout_s or service.settings.job_timeout_s for t in plan.tools)
    outcome = await service.run_spec(service.spec(job_id, list(plan.steps), checked, timeout))
    body = await service.finish(job_id, outcome, checked.total_bytes)
    if body is None:
        raise RunFailed(outcome.error or "Processing failed")
    return [Path(p) for p in outcome.outputs]


async def process_file(service: JobService, plan: Plan, run_id: str, name: str) -> str:
    """Processes one claimed file end to end; returns the run's final status."""
    await run_in_threadpool(update_run, run_id, status="processing", started_at=datetime.now(UTC))
    try:
        produced = await _run_job(service, plan, run_id, name)
        written: list[str] = []
        for index, path in enumerate(produced, start=1):
            target = await run_in_threadpool(
                write_atomically,
                path,
                plan.output,
                output_name(plan, name, path, index, len(produced)),
                plan.on_conflict,
            )
            if target is not None:
                written.append(str(target))
    except RunFailed as exc:
        error = str(exc)
    except Exception as exc:  # a bug or an I/O error must not lose the input: it goes to failed/
        log.exception("automation %s: %s failed", plan.id, name)
        error = f"Internal error while processing the file ({type(exc).__name__}); see the server log"
    else:
        status = "completed" if written or not produced else "skipped"
        message = None if status == "completed" else "The output already exists (onConflict: skip)"
        await run_in_threadpool(
            update_run, run_id, status=status, outputs=written, error=message, finished_at=datetime.now(UTC)
        )
        if status == "completed":
            await run_in_threadpool(after_success, plan, name)
        return status
    try:
        await run_in_threadpool(set_aside_failed, plan, name, error)
    except OSError:
        log.exception("automation %s: could not move %s to failed/", plan.id, name)
    await run_in_threadpool(update_run, run_id, status="failed", error=error, finished_at=datetime.now(UTC))
    return "failed"
