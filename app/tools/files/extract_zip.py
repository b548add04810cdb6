"""Extract ZIP: unpack an archive's files, refusing zip-slip paths, symlinks and zip bombs."""

from __future__ import annotations

from pathlib import Path

from app.engine.media import data
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolFailure, ToolResult, tool


@tool(
    id="extract-zip",
    section="files",
    title="Extract ZIP",
    description=f"Unpack the files of a ZIP archive (folders are flattened into the file names). Archives with "
    f"'..' or absolute paths, symbolic links, more than {data.MAX_ARCHIVE_ENTRIES} entries, more than 500 MiB "
    f"unpacked or a compression ratio over {data.MAX_RATIO} are refused; sizes are counted while unpacking.",
    settings=NoSettings,
    inputs=Inputs(kinds=("archive",)),
    formats=("zip",),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    taken: set[str] = set()
    # Outputs live in one flat folder: 'docs/a.txt' becomes 'docs_a.txt'; the entry list keeps paths.
    ctx.workdir.mkdir(parents=True, exist_ok=True)

    def target(entry: str) -> Path:
        flat = "_".join(p for p in entry.replace("\\", "/").split("/") if p not in ("", "."))
        return ctx.workdir / data.safe_filename(flat, taken)

    files = data.safe_extract(ctx.input.path, target, ctx.check_cancelled)
    if not files:
        raise ToolFailure("the archive holds no files")
    entries = [{"name": entry, "filename": path.name, "size": size} for entry, path, size in files]
    return ToolResult([path for _, path, _ in files], {"files": len(files), "entries": entries,
                                                         "totalSize": sum(size for *_, size in files)})  # fmt: skip
