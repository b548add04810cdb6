"""Runs a JobSpec's steps in the current process: what a worker process does with each job."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from app.engine import failures, registry
from app.engine.ai.bundles import FeatureNotInstalled
from app.engine.media.probe import check_input
from app.engine.media.sniff import accepts, sniff_file
from app.engine.spec import InputRef, JobSpec, Outcome, StepReport
from app.engine.tool import Cancelled, InputFile, InputRejected, ToolContext, ToolFailure

log = logging.getLogger("lutra.worker")
Report = Callable[[float, str | None], None]


def _input_file(ref: InputRef) -> InputFile:
    return InputFile(path=Path(ref.path), name=ref.name, kind=ref.kind, size=ref.size)


def _step_inputs(outputs: list[Path], previous: list[InputFile]) -> list[InputFile]:
    files = []
    for i, out in enumerate(outputs):
        kind = sniff_file(out) or "unknown"
        name = previous[min(i, len(previous) - 1)].stem + out.suffix if previous else out.name
        files.append(InputFile(path=out, name=name, kind=kind, size=out.stat().st_size))
    return files


def _over_limits(files: list[InputFile], limits: tuple[int, int], kinds: tuple[str, ...]) -> InputRejected | None:
    """Why an intermediate file breaks the limits an upload would meet (size, pixels, duration), or None."""
    max_bytes, max_megapixels = limits
    for file in files:
        if max_bytes and file.size > max_bytes:
            return InputRejected(
                f"its output ({file.size / 1e6:.1f} MB) is over the upload size limit", 413, "PAYLOAD_TOO_LARGE"
            )
        try:
            check_input(file.path, file.kind, max_megapixels, kinds)
        except InputRejected as exc:
            return exc
    return None


def partial_dir(workdir: Path) -> Path:
    """Where a job's tools write: a hidden sibling of its output folder, renamed into place on success."""
    return workdir.with_name(f".{workdir.name}.partial")


def _publish(partial: Path, final: Path, outputs: list[Path]) -> list[Path]:
    """Renames the finished work folder to its real name in one step, so a crash never leaves a
    half-written output under a name that could be served; answers the outputs' new paths."""
    partial.mkdir(parents=True, exist_ok=True)  # a tool that wrote nothing still gets its folder
    try:
        os.replace(partial, final)  # atomic; replaces `final` only if it is an empty folder
    except OSError:
        # `final` holds files already (a caller placed some there): move ours in one by one, each a rename.
        final.mkdir(parents=True, exist_ok=True)
        for child in partial.iterdir():
            os.replace(child, final / child.name)
        partial.rmdir()
    return [final / p.relative_to(partial) if p.is_relative_to(partial) else p for p in outputs]


def run_job(spec: JobSpec, report: Report, is_cancelled: Callable[[], bool]) -> Outcome:
    """Runs the steps in a hidden work folder; only a completed job's folder takes the spec's workdir name."""
    final = Path(spec.workdir)
    work = partial_dir(final)
    shutil.rmtree(work, ignore_errors=True)  # a previous try's leftovers are not this run's output
    try:
        outcome = _run_steps(spec, work, report, is_cancelled)
        if outcome.status == "completed":
            outcome.outputs = [str(p) for p in _publish(work, final, [Path(p) for p in outcome.outputs])]
        return outcome
    finally:
        shutil.rmtree(work, ignore_errors=True)  # failed, canceled or crashed in the tool: never served


def _run_steps(spec: JobSpec, base: Path, report: Report, is_cancelled: Callable[[], bool]) -> Outcome:
    inputs = [_input_file(r) for r in spec.inputs]
    extra = {k: _input_file(r) for k, r in spec.extra.items()}
    n = len(spec.steps)
    steps: list[StepReport] = []
    outputs: list[Path] = []
    data: dict = {}
    for index, step in enumerate(spec.steps):
        tool = registry.get(step.tool_id)
        prefix = f"Step {index + 1} ({step.tool_id}): " if n > 1 else ""
        if tool is None:
            return Outcome("failed", error=f"{prefix}unknown tool", http_status=400, code="UNKNOWN_TOOL")
        if index > 0:
            bad = [f.kind for f in inputs if not accepts(tool.inputs.kinds, f.kind)]
            if bad:
                return Outcome(
                    "failed",
                    error=f"{prefix}cannot take the previous step's {bad[0]} output",
                    http_status=422,
                    code="PIPELINE_INCOMPATIBLE",
                )
        run = tool.run
        model = tool.settings
        if step.action is not None:
            found = registry.get_action(tool.id, step.action)
            if found is None:
                return Outcome("failed", error=f"{prefix}unknown action", http_status=404, code="NOT_FOUND")
            run, model = found.run, found.settings or tool.settings
        try:
            settings = model.model_validate(step.settings)
        except ValidationError as exc:
            return Outcome(
                "failed",
                error=f"{prefix}invalid settings: {exc.errors()[0]['msg']}",
                http_status=400,
                code="VALIDATION_ERROR",
            )
        workdir = base if n == 1 or index == n - 1 else base / f"step{index + 1}"

        def step_report(pct: float, msg: str | None, i: int = index, label: str = prefix) -> None:
            report((i * 100.0 + pct) / n, (label + msg) if msg else label.rstrip(": ") or None)

        ctx = ToolContext(inputs, extra, workdir, step_report, is_cancelled)
        try:
            ctx.check_cancelled()
            result = run(ctx, settings)
        except Cancelled:
            return Outcome("canceled", error="Canceled", code="CANCELED")
        except InputRejected as exc:
            return Outcome("failed", error=prefix + exc.message, http_status=exc.status, code=exc.code)
        except ToolFailure as exc:
            return Outcome("failed", error=prefix + str(exc), code="PROCESSING_FAILED")
        except FeatureNotInstalled as exc:
            return Outcome(
                "failed", error=prefix + str(exc), http_status=501, code="FEATURE_NOT_INSTALLED", data=exc.fields()
            )
        except MemoryError:
            return Outcome("failed", error=prefix + "ran out of memory", code="PROCESSING_FAILED")
        except Exception as exc:
            # Details go to the log; the client gets the known cause or a log id, never a traceback.
            log.warning("tool %s failed with %s", step.tool_id, type(exc).__name__)
            return Outcome("failed", error=prefix + failures.explain(exc), code="PROCESSING_FAILED")
        outputs = [Path(p) for p in result.outputs]
        missing = [p for p in outputs if not p.is_file()]
        if missing:
            log.error("tool %s reported missing output %s", step.tool_id, missing[0])
            return Outcome("failed", error=prefix + "produced no output", code="PROCESSING_FAILED")
        data = result.data
        steps.append(StepReport(index + 1, step.tool_id, sum(p.stat().st_size for p in outputs)))
        if index < n - 1:
            if not outputs:
                return Outcome("failed", error=prefix + "produced no file for the next step", code="PROCESSING_FAILED")
            inputs = _step_inputs(outputs, inputs)
            if spec.step_limits is not None:
                following = registry.get(spec.steps[index + 1].tool_id)
                problem = _over_limits(inputs, spec.step_limits, following.inputs.kinds if following else ())
                if problem is not None:
                    error = prefix + problem.message
                    return Outcome("failed", error=error, http_status=problem.status, code=problem.code)
    if n > 1:
        # Intermediate step folders are not results; only the last step's files stay.
        for index in range(n - 1):
            shutil.rmtree(base / f"step{index + 1}", ignore_errors=True)
    return Outcome("completed", outputs=[str(p) for p in outputs], data=data, steps=steps)
