"""Jobs: rows, workspaces, input checks, execution on the runner, results, and clean-up."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import select, update

from app.auth.signed_urls import sign_download_url
from app.config import Settings
from app.db import session_scope
from app.engine.ai.bundles import FeatureNotInstalled
from app.engine.execute import partial_dir
from app.engine.media.probe import check_input
from app.engine.media.sniff import accepts, expand_kinds, sniff_file
from app.engine.runner import Runner
from app.engine.spec import InputRef, JobSpec, Outcome, Step
from app.engine.tool import InputRejected, Tool, ToolSettings
from app.errors import BadRequest, LutraError, NotImplementedFeature, UnsupportedMedia, ValidationFailed
from app.jobs.events import TERMINAL, EventBus, estimate_eta, final_event, make_event, stamp
from app.jobs.uploads import UploadedFile
from app.models import Job
from app.webhooks import outbox

log = logging.getLogger("lutra.jobs")
MAX_SETTINGS_CHARS = 64 * 1024
# Keys a client may send beside a tool's own settings (handled by the service, not the tool).
SERVICE_KEYS = ("fileId",)


def new_job_id() -> str:
    return str(uuid.uuid4())


def download_url(job_id: str, filename: str) -> str:
    """Signed: the client may fetch it without credentials while the workspace lives."""
    return sign_download_url(job_id, filename)


def _link_outputs(job_id: str, data: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """A tool names files it wrote under keys ending in "Url" (top level, or in a list of objects);
    those names become signed download URLs. Anything that is not a file of this job stays as it is."""

    def link(key: str, value: Any) -> Any:
        if key.endswith("Url") and isinstance(value, str) and "/" not in value and (out_dir / value).is_file():
            return download_url(job_id, value)
        if isinstance(value, list):
            return [{k: link(k, v) for k, v in item.items()} if isinstance(item, dict) else item for item in value]
        return value

    return {key: link(key, value) for key, value in data.items()}


# -- settings -----------------------------------------------------------------


def parse_settings_text(raw: str | None) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {}
    if len(raw) > MAX_SETTINGS_CHARS:
        raise BadRequest("Settings payload too large (max 64 KB)", code="SETTINGS_TOO_LARGE")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadRequest("Settings must be valid JSON", code="INVALID_SETTINGS", details={"settings": exc.msg}) from exc
    if not isinstance(value, dict):
        raise BadRequest(
            "Settings must be a JSON object", code="INVALID_SETTINGS", details={"settings": "not an object"}
        )
    return value


def validate_settings(
    tool: Tool, values: dict[str, Any], *, prefix: str = "", model: type[ToolSettings] | None = None
) -> dict[str, Any]:
    """Checks settings against the tool's model; returns them with the service-only keys removed."""
    own = {k: v for k, v in values.items() if k not in SERVICE_KEYS}
    try:
        parsed = (model or tool.settings).model_validate(own)
    except ValidationError as exc:
        details = {".".join(str(p) for p in err["loc"]) or "settings": err["msg"] for err in exc.errors()}
        first_field, first_msg = next(iter(details.items()))
        raise ValidationFailed(f"{prefix}Invalid settings: {first_field}: {first_msg}", details=details) from exc
    if tool.preflight is not None and isinstance(parsed, tool.settings):
        try:
            tool.preflight(parsed)
        except FeatureNotInstalled as exc:
            raise NotImplementedFeature(prefix + str(exc), fields=exc.fields()) from exc
    return own


def redact_secrets(tool: Tool, values: dict[str, Any]) -> dict[str, Any]:
    """The settings as the job row keeps them: fields marked writeOnly (a certificate's password) are
    used for the run but never stored."""
    secret = {
        name
        for name, info in tool.settings.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("writeOnly")
    }
    return {k: ("[redacted]" if k in secret and v else v) for k, v in values.items()}


# -- inputs ---------------------------------------------------------------------


@dataclass
class CheckedInputs:
    inputs: list[InputRef]
    extra: dict[str, InputRef] = field(default_factory=dict)
    # Batch mode only: files refused before running, by upload index, with the reason.
    rejected: dict[int, tuple[str, str]] = field(default_factory=dict)
    # settings.fileId: the input came from this library file, and the result is saved as its next version.
    library_file_id: str | None = None

    @property
    def total_bytes(self) -> int:
        return sum(i.size for i in self.inputs) + sum(i.size for i in self.extra.values())


def accepted_list(kinds: tuple[str, ...]) -> str:
    """The formats a tool takes, groups expanded, for error messages ("jpeg, png, ...")."""
    return ", ".join(expand_kinds(kinds)) or "any file"


def _check_one(upload: UploadedFile, kinds: tuple[str, ...], settings: Settings, *, probe: bool = True) -> InputRef:
    """probe=False: only the cheap type sniff here; the header/probe check (pyvips, ffprobe) is left to
    the worker that opens the file anyway (InputRef.check_accepted), which answers the same 4xx."""
    if upload.size == 0:
        raise InputRejected(f"File {upload.filename!r} is empty", 400, "EMPTY_FILE")
    kind = sniff_file(upload.path)
    if kind is None or not accepts(kinds, kind):
        shown = kind or "unrecognised content"
        raise InputRejected(
            f"Unsupported file type for this tool: {upload.filename!r} is {shown}; accepted: {accepted_list(kinds)}",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        )
    ref = InputRef(path=str(upload.path), name=upload.filename, kind=kind, size=upload.size)
    if probe:
        check_input(upload.path, kind, settings.max_megapixels, kinds)
    else:
        ref.check_accepted, ref.check_megapixels = kinds, settings.max_megapixels
    return ref


def _raise_http(exc: InputRejected) -> None:
    if exc.status == 415:
        raise UnsupportedMedia(exc.message, code=exc.code) from exc
    raise LutraError(exc.message, status=exc.status, code=exc.code) from exc


async def check_uploads(
    tool: Tool,
    main: list[UploadedFile],
    extra: dict[str, UploadedFile],
    settings: Settings,
    *,
    batch: bool = False,
    probe: bool = True,
) -> CheckedInputs:
    """probe=False (fast single jobs, whose 4xx comes from the worker's answer just as well): the
    content checks run in the worker, not in the server process (see _check_one)."""
    rules = tool.inputs
    if not main and rules.min_files > 0:
        raise BadRequest("No file provided", code="NO_FILE")
    if not batch:
        if len(main) > rules.max_files:
            raise BadRequest(
                f"Too many files (at most {rules.max_files}); use /batch for many files", code="TOO_MANY_FILES"
            )
        if len(main) < rules.min_files:
            raise BadRequest(f"This tool needs at least {rules.min_files} files", code="TOO_FEW_FILES")
    for part in rules.extra:
        if part.required and part.name not in extra:
            raise BadRequest(f"Missing the {part.name!r} file", code="NO_FILE", details={part.name: "required"})
    if batch:
        return await _check_batch(tool, main, extra, settings)
    try:
        if probe:
            refs = [await run_in_threadpool(_check_one, f, rules.kinds, settings) for f in main]
            extra_refs = {
                p.name: await run_in_threadpool(_check_one, extra[p.name], p.kinds, settings)
                for p in rules.extra
                if p.name in extra
            }
        else:  # only a sniff of the first bytes each: not worth a thread hop
            refs = [_check_one(f, rules.kinds, settings, probe=False) for f in main]
            extra_refs = {
                p.name: _check_one(extra[p.name], p.kinds, settings, probe=False)
                for p in rules.extra
                if p.name in extra
            }
    except InputRejected as exc:
        _raise_http(exc)
    return CheckedInputs(refs, extra_refs)


async def _check_batch(
    tool: Tool, main: list[UploadedFile], extra: dict[str, UploadedFile], settings: Settings
) -> CheckedInputs:
    """In a batch a bad file is reported on its own; the others still run."""
    checked = CheckedInputs([])
    try:
        checked.extra = {
            p.name: await run_in_threadpool(_check_one, extra[p.name], p.kinds, settings)
            for p in tool.inputs.extra
            if p.name in extra
        }
    except InputRejected as exc:
        _raise_http(exc)
    for index, upload in enumerate(main):
        try:
            checked.inputs.append(await run_in_threadpool(_check_one, upload, tool.inputs.kinds, settings))
        except InputRejected as exc:
            checked.rejected[index] = (upload.filename, exc.message)
            checked.inputs.append(InputRef(path="", name=upload.filename, kind="", size=upload.size))
    return checked


# -- rows -------------------------------------------------------------------------


def _job_row(
    job_id: str, user_id: str | None, kind: str, tool: Tool | None, settings: dict[str, Any], bytes_in: int
) -> dict[str, Any]:
    return {
        "id": job_id,
        "user_id": user_id,
        "kind": kind,
        "tool_id": tool.id if tool else kind,
        # No tool of its own: a pipeline (on one file or a batch), else bookkeeping (upload, feature).
        "section": tool.section if tool else ("pipeline" if kind in ("pipeline", "batch") else ""),
        "settings": settings,
        "bytes_in": bytes_in,
        "created_at": datetime.now(UTC),
    }


def _insert_job(row: dict[str, Any]) -> None:
    with session_scope() as db:
        db.add(Job(**row, status="queued"))


def _update_job(job_id: str, **values: Any) -> None:
    with session_scope() as db:
        db.execute(update(Job).where(Job.id == job_id).values(**values))


def _finish_job(job_id: str, row: dict[str, Any] | None = None, **values: Any) -> None:
    """Writes a job's final state and, in the same transaction, queues the webhook event it raises.

    row: a fast job's row, not written yet: it is inserted whole, with its final state."""
    with session_scope() as db:
        if row is not None:
            job = Job(**row, **values)
            db.add(job)
            db.flush()
            outbox.from_job(db, job_id, job)  # the row in hand: no query to read it back
        else:
            db.execute(update(Job).where(Job.id == job_id).values(**values))
            outbox.from_job(db, job_id)


def load_job(job_id: str) -> Job | None:
    with session_scope() as db:
        return db.get(Job, job_id)


def fail_interrupted_jobs() -> int:
    """At start: jobs left queued/processing by a previous run can never finish now."""
    with session_scope() as db:
        result = db.execute(
            update(Job)
            .where(Job.status.in_(("queued", "processing")))
            .values(
                status="failed",
                error="The server restarted while this job was running; please run it again",
                finished_at=datetime.now(UTC),
            )
        )
        return result.rowcount or 0


# -- the service ----------------------------------------------------------------------


class JobService:
    def __init__(self, settings: Settings, runner: Runner, bus: EventBus) -> None:
        self.settings = settings
        self.runner = runner
        self.bus = bus
        self._background: set[asyncio.Task[Any]] = set()
        # Batch jobs run one runner job per file; cancelling the batch cancels those too.
        self._children: dict[str, set[str]] = {}
        self._cancelled: set[str] = set()
        # When each running job started; finish() writes it with the result.
        self._started: dict[str, datetime] = {}
        self._start_writes: dict[str, asyncio.Task[Any]] = {}
        # Fast jobs' rows, written once by finish() with the result (see create(deferred=True)).
        self._deferred: dict[str, dict[str, Any]] = {}

    def cancel(self, job_id: str) -> None:
        self._cancelled.add(job_id)
        self.runner.cancel(job_id)
        for child in self._children.get(job_id, set()):
            self.runner.cancel(child)

    def is_cancelled(self, job_id: str) -> bool:
        return job_id in self._cancelled

    async def cancel_requested(self, job_id: str) -> bool:
        """Whether the job was cancelled here or, in the scaled mode, through another API node (a batch
        fanned out by this node asks before each file, so a cancel made elsewhere stops the queueing)."""
        if job_id in self._cancelled:
            return True
        if await self.runner.cancel_requested(job_id):
            self._cancelled.add(job_id)
            return True
        return False

    def add_child(self, parent: str, child: str) -> None:
        self._children.setdefault(parent, set()).add(child)

    def forget(self, job_id: str) -> None:
        self._children.pop(job_id, None)
        self._cancelled.discard(job_id)

    new_id = staticmethod(new_job_id)

    @property
    def jobs_dir(self) -> Path:
        return self.settings.data_dir / "jobs"

    def workspace(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    def output_dir(self, job_id: str) -> Path:
        return self.workspace(job_id) / "out"

    async def create(
        self,
        job_id: str,
        user_id: str | None,
        kind: str,
        tool: Tool | None,
        settings: dict[str, Any],
        bytes_in: int,
        *,
        deferred: bool = False,
    ) -> None:
        """Records a new job. deferred=True (a fast job, whose caller waits for the answer and learns
        its id only from it): the row is kept in memory and written once, with the result, by
        finish(), committed before the answer leaves; one database write per fast job instead of two.
        Such a job is not counted by MAX_QUEUED_JOBS while it runs; the upload slot its request holds
        bounds it instead. Call abandon() when the request fails before finish()."""
        stored = redact_secrets(tool, settings) if tool is not None else settings
        row = _job_row(job_id, user_id, kind, tool, stored, bytes_in)
        if deferred:
            self._deferred[job_id] = row
        else:
            await run_in_threadpool(_insert_job, row)

    def abandon(self, job_id: str) -> None:
        """Forgets a deferred row that finish() will never write (the request failed on the way)."""
        self._deferred.pop(job_id, None)

    def forget_start(self, job_id: str) -> None:
        self._started.pop(job_id, None)

    async def describe(self, job_id: str, settings: dict[str, Any], bytes_in: int) -> None:
        """Fills in a job created before its request was read (a batch's clientJobId)."""
        await run_in_threadpool(_update_job, job_id, settings=settings, bytes_in=bytes_in)

    def spec(
        self,
        job_id: str,
        steps: list[Step],
        checked: CheckedInputs,
        timeout_s: float | None = None,
        workdir: Path | None = None,
    ) -> JobSpec:
        return JobSpec(
            job_id=job_id,
            steps=steps,
            inputs=checked.inputs,
            extra=checked.extra,
            workdir=str(workdir or self.output_dir(job_id)),
            timeout_s=float(timeout_s or self.settings.job_timeout_s),
        )

    async def run_spec(
        self, spec: JobSpec, *, report: bool = True, persist_start: bool = True, start_within: float | None = None
    ) -> Outcome:
        """Runs a spec on the runner, publishing progress events for its job id.

        persist_start=False skips writing the "processing" state when the job starts: a fast job's
        caller is waiting for the answer anyway, and finish() records the start time with the result,
        saving one database write per request. start_within: fail (503 NO_WORKERS) rather than wait
        longer for a worker to take the job (scaled mode).
        """
        job_id = spec.job_id
        last_write = [0.0]

        def on_start() -> None:
            started = self._started[job_id] = datetime.now(UTC)
            self.bus.publish(job_id, make_event(job_id, "processing", 0, "Starting"))
            if report and persist_start:
                # Written when a slot is free, not at submission: until then the row says "queued".
                self._start_writes[job_id] = self._spawn(
                    run_in_threadpool(_update_job, job_id, status="processing", started_at=started)
                )

        def on_progress(pct: float, message: str | None) -> None:
            eta = estimate_eta(self._started.get(job_id), pct)
            self.bus.publish(job_id, make_event(job_id, "processing", pct, message, eta_seconds=eta))
            now = time.monotonic()
            if report and job_id not in self._deferred and now - last_write[0] > 2.0:
                # Progress in the row is for listings; the live stream comes from the bus. A fast job's
                # row is not written yet (deferred): there is nothing to update.
                last_write[0] = now
                self._spawn(run_in_threadpool(_update_job, job_id, progress=int(pct), message=message))

        try:
            return await self.runner.run(spec, on_progress, on_start, start_within)
        finally:
            if not report:  # nobody calls finish() for these (batch members)
                self._started.pop(job_id, None)

    def result_body(self, job_id: str, outcome: Outcome, bytes_in: int) -> dict[str, Any]:
        outputs = [Path(p) for p in outcome.outputs]
        sizes = [p.stat().st_size for p in outputs]
        urls = [download_url(job_id, p.name) for p in outputs]
        body: dict[str, Any] = {
            "jobId": job_id,
            "downloadUrl": urls[0] if outputs else None,
            "originalSize": bytes_in,
            "processedSize": sum(sizes),
        }
        if len(outputs) > 1:
            body["downloads"] = [
                {"filename": p.name, "downloadUrl": u, "size": s} for p, s, u in zip(outputs, sizes, urls, strict=True)
            ]
        linked = _link_outputs(job_id, outcome.data, self.output_dir(job_id))
        for key, value in linked.items():
            if key == "downloadUrl" and value != outcome.data.get(key):
                body[key] = value  # the tool named its main file (e.g. the ZIP of several pages)
            else:
                body.setdefault(key, value)
        return body

    async def finish(
        self, job_id: str, outcome: Outcome, bytes_in: int, extra: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Records the outcome, publishes the terminal event; returns the result body on success."""
        start_write = self._start_writes.pop(job_id, None)
        if start_write is not None:
            await start_write  # the "processing" row write must never land after the final one
        seq, now = stamp()
        started = self._started.pop(job_id, None)
        timing = {"started_at": started} if started is not None else {}
        if outcome.status == "completed":
            body = self.result_body(job_id, outcome, bytes_in)
            if extra:
                body.update(extra)
            await run_in_threadpool(
                _finish_job,
                job_id,
                self._deferred.pop(job_id, None),
                status="completed",
                progress=100,
                result=body,
                message=None,
                bytes_out=body["processedSize"],
                finished_at=now,
                **timing,
            )
            self.bus.publish(job_id, final_event(job_id, "completed", body, None, seq))
            return body
        # A worker that died mid-tool (crash, timeout kill) could not remove its half-written folder.
        await run_in_threadpool(shutil.rmtree, partial_dir(self.output_dir(job_id)), True)
        error = outcome.error or "Processing failed"
        result = {"httpStatus": outcome.http_status, "code": outcome.code}
        await run_in_threadpool(
            _finish_job,
            job_id,
            self._deferred.pop(job_id, None),
            status=outcome.status,
            error=error,
            finished_at=now,
            result=result,
            **timing,
        )
        self.bus.publish(job_id, final_event(job_id, outcome.status, result, error, seq))
        return None

    async def finish_batch(self, job_id: str, summary: dict[str, Any], bytes_out: int = 0) -> None:
        """Completes a batch; bytes_out is the size of what it answered (the ZIP), for the usage report."""
        await self.finish_with(job_id, summary, bytes_out=bytes_out)

    async def finish_with(self, job_id: str, result: dict[str, Any], *, bytes_out: int = 0) -> None:
        """Completes a job that produced data rather than files (e.g. a model install, a batch's summary)."""
        seq, now = stamp()
        await run_in_threadpool(
            _finish_job,
            job_id,
            self._deferred.pop(job_id, None),
            status="completed",
            progress=100,
            result=result,
            bytes_out=bytes_out,
            finished_at=now,
        )
        self.bus.publish(job_id, final_event(job_id, "completed", result, None, seq))

    async def finish_failed(self, job_id: str, error: str, summary: dict[str, Any], status: str = "failed") -> None:
        seq, now = stamp()
        await run_in_threadpool(
            _finish_job,
            job_id,
            self._deferred.pop(job_id, None),
            status=status,
            error=error,
            result=summary,
            finished_at=now,
        )
        self.bus.publish(job_id, final_event(job_id, status, summary, error, seq))

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def run_in_background(self, coro: Any) -> None:
        self._spawn(coro)

    # -- clean-up ---------------------------------------------------------------------

    def _expired_job_ids(self) -> list[str]:
        cutoff = datetime.now(UTC) - timedelta(hours=self.settings.file_max_age_hours)
        with session_scope() as db:
            ids = list(db.scalars(select(Job.id).where(Job.created_at < cutoff, Job.status.in_(tuple(TERMINAL)))))
            if ids:
                for row in db.scalars(select(Job).where(Job.id.in_(ids))):
                    db.delete(row)
            return ids

    def cleanup_once(self) -> int:
        """Deletes finished jobs older than FILE_MAX_AGE_HOURS: rows and workspaces (and orphan folders)."""
        if not self.settings.file_max_age_hours:
            return 0  # 0 = kept until deleted by hand
        ids = self._expired_job_ids()
        for job_id in ids:
            shutil.rmtree(self.workspace(job_id), ignore_errors=True)
        cutoff = time.time() - self.settings.file_max_age_hours * 3600
        if self.jobs_dir.is_dir():
            for folder in self.jobs_dir.iterdir():
                try:
                    if folder.stat().st_mtime < cutoff:
                        with session_scope() as db:
                            alive = db.get(Job, folder.name)
                        if alive is None or alive.status in TERMINAL:
                            shutil.rmtree(folder, ignore_errors=True)
                except OSError:
                    continue
        return len(ids)

    async def cleanup_forever(self, interval_s: float = 600.0) -> None:
        while True:
            try:
                removed = await run_in_threadpool(self.cleanup_once)
                if removed:
                    log.info("removed %d expired jobs", removed)
            except Exception:
                log.exception("job clean-up failed")
            await asyncio.sleep(interval_s)
