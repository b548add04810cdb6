"""What every `lutra` command that runs tools shares: exit codes, settings from flags, inputs, outputs."""

from __future__ import annotations

import glob
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.engine.media import names

# Exit codes (the contract; scripts branch on them).
DONE, FAILED, BAD_INPUT, UNAVAILABLE = 0, 1, 2, 3


class CommandError(Exception):
    """Ends the command with one line on stderr and this exit code."""

    def __init__(self, message: str, code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _coerce(text: str) -> Any:
    """--set values: JSON when they parse as JSON (numbers, true, null, lists), else the plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def settings_from(settings_arg: str | None, sets: list[str] | None, text: set[str] | None = None) -> dict[str, Any]:
    """`--settings JSON|@file`, then every `--set key=value` merged over it (dotted keys nest; the
    top-level settings named in `text` take the value as a string, as typed)."""
    values: dict[str, Any] = {}
    if settings_arg:
        text = settings_arg
        if settings_arg.startswith("@"):
            try:
                text = Path(settings_arg[1:]).read_text()
            except OSError as exc:
                raise CommandError(f"--settings: cannot read {settings_arg[1:]}: {exc.strerror}") from exc
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"--settings is not valid JSON: {exc}") from exc
        if not isinstance(values, dict):
            raise CommandError("--settings must be a JSON object")
    for item in sets or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--set {item!r}: expected key=value")
        target = values
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise CommandError(f"--set {key}: {part} is not an object")
        target[leaf] = raw if not parents and leaf in (text or ()) else _coerce(raw)
    return values


def parts_from(items: list[str] | None) -> dict[str, Path]:
    """`--part watermark=logo.png`: a tool's named extra input."""
    parts: dict[str, Path] = {}
    for item in items or []:
        name, sep, raw = item.partition("=")
        if not sep or not name or not raw:
            raise CommandError(f"--part {item!r}: expected NAME=PATH")
        if not Path(raw).is_file():
            raise CommandError(f"--part {name}: {raw}: no such file")
        parts[name] = Path(raw)
    return parts


@dataclass
class Inputs:
    files: list[Path]
    # A directory or a glob was named: the command is a batch even if it matched one file.
    expanded: bool = False
    names: list[str] = field(default_factory=list)


def expand_inputs(items: list[str]) -> Inputs:
    """Files as given; directories (their files, sorted, not recursive) and globs expanded."""
    found = Inputs([])
    for item in items:
        path = Path(item)
        if path.is_dir():
            found.expanded = True
            found.files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
        elif glob.has_magic(item) and not path.exists():
            found.expanded = True
            matches = sorted(Path(p) for p in glob.glob(item) if Path(p).is_file())
            if not matches:
                raise CommandError(f"{item}: no file matches")
            found.files.extend(matches)
        elif path.is_file():
            found.files.append(path)
        else:
            raise CommandError(f"{item}: no such file")
    if not found.files:
        raise CommandError("no input files")
    return found


def free_name(folder: Path, name: str) -> Path:
    """name, or name_1, name_2 ... when a file of that name already exists: never overwrite silently."""
    return names.free_name(folder, name, sep="_")


def place_outputs(outputs: list[Path], target: str | None) -> list[Path]:
    """Copies a run's outputs to -o: a file path for one output, else a folder (default: the current one)."""
    if target and len(outputs) == 1 and not target.endswith(("/", "\\")) and not Path(target).is_dir():
        dest = Path(target)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(outputs[0], dest)  # named explicitly: replacing it is what was asked
        return [dest]
    folder = Path(target) if target else Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    placed = []
    for output in outputs:
        dest = free_name(folder, output.name)
        shutil.copyfile(output, dest)
        placed.append(dest)
    return placed


def batch_folder(target: str | None, label: str) -> Path:
    folder = Path(target) if target else Path.cwd() / f"batch-{label}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def report_batch(
    file_results: dict[str, str], errors: dict[str, dict[str, str]], total: int, folder: Path, as_json: bool
) -> int:
    """Prints where a batch's results went (or its summary as the API keeps it) and each failed file."""
    if as_json:
        summary = {
            "fileResults": file_results,
            "errors": errors,
            "totalFiles": total,
            "failedFiles": len(errors),
            "outputDir": str(folder),
        }
        print(json.dumps(summary, indent=2))
    else:
        for entry in file_results.values():
            print(folder / entry)
    for error in errors.values():
        print(f"{error['filename']}: {error['error']}", file=sys.stderr)
    # As over the API: the other files' results stand, but the run as a whole did not succeed.
    return FAILED if errors else DONE
