"""Split CSV: cut a CSV into parts of N rows each, with the header repeated in every part (or not)."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile

from pydantic import Field

from app.engine.media import data
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

MAX_PARTS = 10_000


class SplitCsvSettings(ToolSettings):
    rowsPerFile: int = Field(1000, ge=1, le=1_000_000, description="Data rows in each part")
    keepHeader: bool = Field(True, description="Repeat the first row (the header) at the top of every part")


@tool(
    id="split-csv",
    section="files",
    title="Split CSV",
    description="Split a CSV file into parts of rowsPerFile rows each, returned as a ZIP (or one CSV when "
    "everything fits in one part).",
    settings=SplitCsvSettings,
    inputs=Inputs(kinds=("csv", "txt")),
    formats=("csv",),
)
def run(ctx: ToolContext, settings: SplitCsvSettings) -> ToolResult:
    rows = data.iter_csv(ctx.input.path)
    header = next(rows, None)
    if header is None:
        raise InputRejected("The CSV file has no rows", 400)
    stem = ctx.input.stem
    archive = ctx.output_path(f"{stem}-parts.zip")
    parts = 0
    total = 0
    writer = None
    entry = None
    # Parts are written straight into the ZIP: no part is held in memory or left on disk.
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        if not settings.keepHeader:
            rows = itertools.chain([header], rows)
        for row in rows:
            if total % settings.rowsPerFile == 0:
                if entry is not None:
                    entry.close()
                parts += 1
                if parts > MAX_PARTS:
                    raise InputRejected(f"That makes more than {MAX_PARTS} parts; choose a larger rowsPerFile", 400)
                if parts % 50 == 0:
                    ctx.check_cancelled()
                entry = io.TextIOWrapper(z.open(f"{stem}-{parts:04d}.csv", "w"), encoding="utf-8", newline="")
                writer = csv.writer(entry)
                if settings.keepHeader:
                    writer.writerow(header)
            writer.writerow(row)  # type: ignore[union-attr]
            total += 1
        if entry is not None:
            entry.close()
    result = {"parts": parts, "rows": total, "rowsPerFile": settings.rowsPerFile}
    if parts <= 1:
        # Everything fits in one part: the CSV itself, not a ZIP of one file.
        single = ctx.output_path(f"{stem}-0001.csv")
        if parts == 1:
            with zipfile.ZipFile(archive) as z:
                single.write_bytes(z.read(z.namelist()[0]))
        else:
            data.write_csv(single, [header] if settings.keepHeader else [])
        archive.unlink()
        return ToolResult([single], result)
    return ToolResult([archive], result)
