"""Create ZIP: pack 2 to 50 uploaded files into one archive."""

from __future__ import annotations

import zipfile
from pathlib import Path

from app.engine.media import data
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool

MIN_FILES, MAX_FILES = 2, 50
# Already-compressed content is stored as it is: deflating it again costs time and saves nothing.
_COMPRESSED = {"jpeg", "png", "webp", "gif", "heif", "avif", "jxl", "jp2", "zip", "docx", "xlsx", "pptx", "odt",
               "ods", "odp", "epub", "mp4", "mov", "webm", "mkv", "mp3", "ogg", "flac", "m4a", "pdf"}  # fmt: skip


@tool(
    id="create-zip",
    section="files",
    title="Create ZIP",
    description=f"Pack {MIN_FILES} to {MAX_FILES} files into one ZIP archive; files with the same name are numbered.",
    settings=NoSettings,
    inputs=Inputs(kinds=(), min_files=MIN_FILES, max_files=MAX_FILES),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    out = ctx.output_path("archive.zip")
    taken: set[str] = set()
    names = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for index, f in enumerate(ctx.inputs):
            ctx.check_cancelled()
            ctx.progress(100 * index / len(ctx.inputs), f"Adding {f.name}")
            name = data.safe_filename(Path(f.name).name, taken, f"file-{index + 1}")
            method = zipfile.ZIP_STORED if f.kind in _COMPRESSED else zipfile.ZIP_DEFLATED
            z.write(f.path, arcname=name, compress_type=method)
            names.append(name)
    return ToolResult([out], {"files": len(names), "entries": names})
