"""`lutra run` without a server: the same registry, settings validation, input checks, limits and worker
processes (time limit, crash isolation, cancel on Ctrl-C) as the server, on local files, no database."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from app.config import get_settings
from app.console.common import (
    BAD_INPUT,
    DONE,
    FAILED,
    CommandError,
    Inputs,
    batch_folder,
    place_outputs,
    report_batch,
)
from app.console.progress import Reporter
from app.engine import registry
from app.engine.runner import Runner
from app.engine.spec import JobSpec, Outcome, Step
from app.engine.tool import Tool
from app.errors import LutraError
from app.jobs.batch import unique_name
from app.jobs.service import CheckedInputs, check_uploads, validate_settings
from app.jobs.tool_routes import feature_problem
from app.jobs.uploads import UploadedFile, sanitize_filename
from app.mcp.catalog import split_name

# A rejected input (the API's 400/413/415) is the caller's to fix; anything else is the tool failing.
_INPUT_STATUSES = {400, 404, 413, 415}


def find_tool(name: str) -> Tool:
    """A tool by id (`resize`), MCP name (`image_resize`) or path (`image/resize`)."""
    registry.load_all()
    tool = registry.get(name)
    if tool is None:
        parts = split_name(name.replace("/", "_", 1))
        found = registry.get(parts[1]) if parts else None
        tool = found if found is not None and parts and found.section == parts[0] else None
    if tool is None:
        raise CommandError(f"unknown tool {name!r}; `lutra tools` lists them")
    return tool


def check_settings(tool: Tool, values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    try:
        return validate_settings(tool, values, prefix=prefix)
    except LutraError as exc:
        raise CommandError(exc.message, BAD_INPUT if exc.status < 500 else FAILED) from exc


def _uploads(files: list[Path], max_bytes: int, field: str = "file") -> list[UploadedFile]:
    uploads = []
    for path in files:
        size = path.stat().st_size
        if size > max_bytes:
            raise CommandError(f"{path}: file too large (max {max_bytes // (1024 * 1024)} MB, see MAX_UPLOAD_SIZE_MB)")
        name = sanitize_filename(path.name)
        uploads.append(UploadedFile(field=field, filename=name, path=path.resolve(), size=size, original=path.name))
    return uploads


def is_batch(tool: Tool, inputs: Inputs | None) -> bool:
    """Many inputs to a one-file tool (or a folder or glob) run as a batch, each file its own job."""
    if inputs is None:
        return False
    return tool.inputs.max_files == 1 and (inputs.expanded or len(inputs.files) > 1)


def _failure(outcome: Outcome) -> CommandError:
    code = BAD_INPUT if outcome.http_status in _INPUT_STATUSES else FAILED
    return CommandError(outcome.error or "processing failed", code)


async def run_steps(
    steps: list[Step],
    first: Tool,
    label: str,
    inputs: Inputs | None,
    output: str | None,
    *,
    as_json: bool,
    timeout_s: int | None = None,
    show_progress: bool = True,
    parts: dict[str, Path] | None = None,
) -> int:
    """Runs steps (one for a tool, several for a pipeline) on the inputs; prints where the results went."""
    problem = feature_problem(first)
    if problem is not None:
        raise CommandError(str(problem), FAILED)
    settings = get_settings()
    batch = is_batch(first, inputs)
    if batch and inputs is not None and settings.max_batch_size and len(inputs.files) > settings.max_batch_size:
        raise CommandError(f"too many files: at most {settings.max_batch_size} per batch (MAX_BATCH_SIZE)")
    uploads = _uploads(inputs.files if inputs else [], settings.max_upload_bytes)
    extra = {name: _uploads([path], settings.max_upload_bytes, name)[0] for name, path in (parts or {}).items()}
    try:
        checked = await check_uploads(first, uploads, extra, settings, batch=batch)
    except LutraError as exc:
        raise CommandError(exc.message) from exc
    limit = float(timeout_s or settings.job_timeout_s)
    runner = Runner(settings.job_concurrency if batch else 1, idle_timeout_s=60)
    runner.start()
    work = Path(tempfile.mkdtemp(prefix="lutra-run-"))
    try:
        with Reporter(label, show=show_progress and (first.long or batch or len(steps) > 1)) as reporter:
            if batch:
                return await _batch(runner, steps, checked, work, limit, label, output, reporter, as_json)
            spec = JobSpec(uuid.uuid4().hex, steps, checked.inputs, str(work / "out"), checked.extra, limit)
            outcome = await runner.run(spec, reporter.update)
        if outcome.status != "completed":
            raise _failure(outcome)
        placed = place_outputs([Path(p) for p in outcome.outputs], output)
        sizes = sum(p.stat().st_size for p in placed)
        body = {"jobId": spec.job_id, "originalSize": checked.total_bytes, "processedSize": sizes, **outcome.data}
        body["outputs"] = [str(p) for p in placed]
        # A tool that answers data only (no file) prints its answer either way.
        print(json.dumps(body, indent=2) if as_json or not placed else "\n".join(str(p) for p in placed))
        return DONE
    finally:
        await runner.close()
        shutil.rmtree(work, ignore_errors=True)


async def _batch(
    runner: Runner,
    steps: list[Step],
    checked: CheckedInputs,
    work: Path,
    limit: float,
    label: str,
    output: str | None,
    reporter: Reporter,
    as_json: bool,
) -> int:
    """Every file its own job (the runner bounds how many at once); outputs named as the batch ZIP names them."""
    total = len(checked.inputs)
    done = [0]

    async def one(index: int) -> Outcome:
        if index in checked.rejected:
            outcome = Outcome("failed", error=checked.rejected[index][1], http_status=415)
        else:
            ref = checked.inputs[index]
            spec = JobSpec(f"{uuid.uuid4().hex}.{index}", steps, [ref], str(work / str(index)), checked.extra, limit)
            outcome = await runner.run(spec, lambda pct, msg: None)
        done[0] += 1
        reporter.update(100.0 * done[0] / total, f"{done[0]}/{total} files")
        return outcome

    outcomes = await asyncio.gather(*(one(i) for i in range(total)))
    folder = batch_folder(output, label)
    taken: set[str] = set()
    file_results: dict[str, str] = {}
    errors: dict[str, dict[str, str]] = {}
    for index, outcome in enumerate(outcomes):
        name = checked.inputs[index].name
        if outcome.status != "completed":
            errors[str(index)] = {"filename": name, "error": outcome.error or "processing failed"}
            continue
        for produced in outcome.outputs:
            entry = unique_name(Path(produced).name, taken)
            shutil.copyfile(produced, folder / entry)
            file_results.setdefault(str(index), entry)
    return report_batch(file_results, errors, total, folder, as_json)


def check_parts(known: list[str], parts: dict[str, Path], tool_id: str) -> None:
    for name in parts:
        if name not in known:
            takes = f"takes: {', '.join(known)}" if known else "takes no extra input"
            raise CommandError(f"--part {name}: {tool_id} {takes}")


async def run_tool(
    tool: Tool,
    values: dict[str, Any],
    inputs: Inputs | None,
    output: str | None,
    *,
    as_json: bool,
    parts: dict[str, Path] | None = None,
) -> int:
    checked = check_settings(tool, values)
    if tool.inputs.takes_files and inputs is None and tool.inputs.min_files > 0:
        raise CommandError(f"{tool.id} needs an input file")
    check_parts([p.name for p in tool.inputs.extra], parts or {}, tool.id)
    steps = [Step(tool.id, checked)]
    return await run_steps(steps, tool, tool.id, inputs, output, as_json=as_json, timeout_s=tool.timeout_s, parts=parts)
