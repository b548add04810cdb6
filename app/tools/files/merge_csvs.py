"""Merge CSVs: stack several CSV files with the same columns into one (columns in any order)."""

from __future__ import annotations

from collections.abc import Iterator

from app.engine.media import data
from app.engine.tool import InputRejected, Inputs, NoSettings, ToolContext, ToolResult, tool

MAX_FILES = 50


@tool(
    id="merge-csvs",
    section="files",
    title="Merge CSVs",
    description=f"Combine 2 to {MAX_FILES} CSV files with the same columns into one, in upload order. Columns "
    "may come in a different order (they follow the first file's); files with other columns are refused.",
    settings=NoSettings,
    inputs=Inputs(kinds=("csv", "txt"), min_files=2, max_files=MAX_FILES),
    formats=("csv",),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    first_header: list[str] | None = None
    out = ctx.output_path(f"{ctx.input.stem}-merged.csv")
    counts = []

    def rows() -> Iterator[list[str]]:
        nonlocal first_header
        for index, f in enumerate(ctx.inputs):
            ctx.check_cancelled()
            ctx.progress(100 * index / len(ctx.inputs), f"Reading {f.name}")
            stream = data.iter_csv(f.path)
            header = next(stream, None)
            if header is None:
                raise InputRejected(f"{f.name} has no rows", 400)
            names = [h.strip() for h in header]
            if first_header is None:
                first_header = names
                order = list(range(len(names)))
                yield header
            else:
                order = _order(first_header, names, f.name)
            count = 0
            for row in stream:
                cells = row + [""] * (len(names) - len(row))
                yield [cells[i] for i in order]
                count += 1
            counts.append(count)

    data.write_csv(out, rows())
    return ToolResult([out], {"files": len(ctx.inputs), "rows": sum(counts), "columns": len(first_header or [])})


def _order(expected: list[str], names: list[str], file_name: str) -> list[int]:
    """Where each of the first file's columns sits in this file; refuses a different set of columns."""
    if sorted(expected) != sorted(names):
        missing = [n for n in expected if n not in names]
        extra = [n for n in names if n not in expected]
        parts = []
        if missing:
            parts.append("missing " + ", ".join(repr(n) for n in missing[:5]))
        if extra:
            parts.append("extra " + ", ".join(repr(n) for n in extra[:5]))
        detail = "; ".join(parts) or "duplicate column names"
        raise InputRejected(f"{file_name} does not have the same columns as the first file ({detail})", 400,
                            "COLUMNS_DIFFER")  # fmt: skip
    taken: set[int] = set()
    order = []
    for name in expected:
        index = next(i for i, n in enumerate(names) if n == name and i not in taken)
        taken.add(index)
        order.append(index)
    return order
