"""Automation paths stay inside WATCH_ROOT: no `..`, no symlink leading out, no output that feeds its source."""

from __future__ import annotations

from pathlib import Path, PurePath

from app.errors import BadRequest

# Names a file has while another program is still writing it, or that Lutra itself writes.
TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", ".swp", ".lutra-part")
# Folders under a source that hold what was already handled; never inputs.
DONE_DIR = "done"
FAILED_DIR = "failed"


def resolve_in_root(root: Path, value: str, field: str) -> Path:
    """The absolute, symlink-free form of `value` (absolute or relative to root); 400 when it leaves root."""
    raw = value.strip()
    if not raw or "\x00" in raw:
        raise BadRequest(f"{field}: a folder path is required", code="INVALID_PATH")
    if ".." in PurePath(raw).parts:
        raise BadRequest(f"{field}: '..' is not allowed in automation paths", code="PATH_OUTSIDE_WATCH_ROOT")
    candidate = Path(raw) if Path(raw).is_absolute() else root / raw
    # resolve() follows every symlink that exists, so a link pointing out of the root is caught here.
    resolved = candidate.resolve()
    if resolved != root and root not in resolved.parents:
        raise BadRequest(
            f"{field}: {raw!r} is outside the watch root {str(root)!r} (WATCH_ROOT)", code="PATH_OUTSIDE_WATCH_ROOT"
        )
    if resolved.exists() and not resolved.is_dir():
        raise BadRequest(f"{field}: {raw!r} is a file, not a folder", code="INVALID_PATH")
    return resolved


def check_output_not_in_source(source: Path, output: Path) -> None:
    if output == source or source in output.parents:
        raise BadRequest(
            "output.path must not be the source folder or inside it (the results would be taken as new inputs)",
            code="OUTPUT_INSIDE_SOURCE",
        )


def is_candidate_name(name: str) -> bool:
    """False for hidden files, editors' and browsers' temporary names, and Lutra's own partial writes."""
    lowered = name.lower()
    return not (name.startswith((".", "~")) or lowered.endswith(TEMPORARY_SUFFIXES))
