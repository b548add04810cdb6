"""Bulk Rename: give many images names from a pattern ({n}, {date}, {original}) and return them in a ZIP.

The files themselves are not touched: the ZIP holds the uploaded bytes under their new names.
"""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, field_validator

from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

MAX_FILES = 500
# Characters no common file system accepts in a name, plus control characters.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_EXT_FOR_KIND = {"jpeg": "jpg", "tiff": "tif", "heif": "heic", "jp2": "jp2", "jxl": "jxl"}
_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_KNOWN = {"n", "date", "original"}


class BulkRenameSettings(ToolSettings):
    pattern: str = Field(
        "image-{n}",
        min_length=1,
        max_length=200,
        description="New name without extension: {n} the number, {date} today's date (YYYY-MM-DD), "
        "{original} the uploaded name without extension",
    )
    startIndex: int = Field(1, ge=0, le=1_000_000, description="Number given to the first file")
    padding: int = Field(3, ge=0, le=10, description="Zero-pad {n} to this many digits (3 gives 001); 0 for no padding")

    @field_validator("pattern")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        unknown = {name for name in _PLACEHOLDER.findall(value) if name not in _KNOWN}
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {{n}}, {{date}} or {{original}}")
        return value


def _clean(name: str) -> str:
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:200] or "file"


def _extension(original: str, kind: str) -> str:
    suffix = Path(original).suffix.lower().lstrip(".")
    if suffix and suffix.isalnum() and len(suffix) <= 5:
        return suffix
    return _EXT_FOR_KIND.get(kind, kind)


def new_names(originals: list[tuple[str, str]], s: BulkRenameSettings, today: str) -> list[str]:
    """New file names for (uploaded name, detected kind) pairs, in order, made unique."""
    names: list[str] = []
    taken: set[str] = set()
    for index, (original, kind) in enumerate(originals):
        number = str(s.startIndex + index).zfill(s.padding)
        stem = Path(original).stem or "file"
        base = _PLACEHOLDER.sub(
            lambda m, n=number, st=stem: {"n": n, "date": today, "original": st}[m.group(1)], s.pattern
        )
        base = _clean(base)
        ext = _extension(original, kind)
        candidate, copy = f"{base}.{ext}", 2
        while candidate.lower() in taken:
            candidate, copy = f"{base}-{copy}.{ext}", copy + 1
        taken.add(candidate.lower())
        names.append(candidate)
    return names


@tool(
    id="bulk-rename",
    section="image",
    title="Bulk Rename",
    description="Rename many images at once from a pattern with {n}, {date} and {original}; returns a ZIP.",
    settings=BulkRenameSettings,
    inputs=Inputs(kinds=IMAGE_KINDS, min_files=1, max_files=MAX_FILES),
)
def run(ctx: ToolContext, settings: BulkRenameSettings) -> ToolResult:
    today = datetime.now(UTC).date().isoformat()
    names = new_names([(f.name, f.kind) for f in ctx.inputs], settings, today)
    out = ctx.output_path("renamed.zip")
    # Images are already compressed: storing them is as small and much faster than deflating.
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, (source, name) in enumerate(zip(ctx.inputs, names, strict=True)):
            ctx.check_cancelled()
            archive.write(source.path, name)
            ctx.progress(100 * (index + 1) / len(names), f"Renamed {index + 1} of {len(names)}")
    files = [{"original": f.name, "renamed": n} for f, n in zip(ctx.inputs, names, strict=True)]
    return ToolResult([out], {"count": len(files), "files": files})
