"""Find Duplicates: groups near-identical images by a 128-bit perceptual difference hash (dHash)."""

from __future__ import annotations

import json

import pyvips
from pydantic import Field

from app.engine.media import draw, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import InputFile, Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

HASH_BITS = 128


class FindDuplicatesSettings(ToolSettings):
    threshold: int = Field(
        8, ge=0, le=64, description="Largest perceptual hash distance (of 128 bits) still counted as a duplicate"
    )


def _grey(source: InputFile, width: int, height: int) -> bytes:
    # Shrink-on-load straight to a few pixels: the whole image is never decoded at full size.
    small = pyvips.Image.thumbnail(str(source.path), width, height=height, size="force", fail_on="truncated")
    small = draw.flatten(small).colourspace("b-w")[0]
    return small.write_to_memory()


def dhash(source: InputFile) -> int:
    """Row gradients on a 9x8 thumbnail plus column gradients on an 8x9 one: 128 bits."""
    rows, cols = _grey(source, 9, 8), _grey(source, 8, 9)
    bits = 0
    for y in range(8):
        for x in range(8):
            bits = (bits << 1) | (rows[y * 9 + x] > rows[y * 9 + x + 1])
    for y in range(8):
        for x in range(8):
            bits = (bits << 1) | (cols[y * 8 + x] > cols[(y + 1) * 8 + x])
    return bits


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@tool(
    id="find-duplicates",
    section="image",
    title="Find Duplicates",
    description="Find near-duplicate images among 2-100 uploads by perceptual hash; groups and a JSON report.",
    settings=FindDuplicatesSettings,
    inputs=Inputs(kinds=IMAGE_KINDS, min_files=2, max_files=100),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif"),
)
def run(ctx: ToolContext, settings: FindDuplicatesSettings) -> ToolResult:
    hashed: list[tuple[InputFile, int, int, int]] = []  # (file, hash, width, height)
    skipped: list[dict[str, str]] = []
    for n, source in enumerate(ctx.inputs):
        ctx.check_cancelled()
        ctx.progress(5 + 85 * n / len(ctx.inputs), f"Hashing {source.name}")
        try:
            width, height = vips.upright_size(source.path)
            hashed.append((source, dhash(source), width, height))
        except pyvips.Error:
            skipped.append({"filename": source.name, "reason": "Could not decode the image"})
    if len(hashed) < 2:
        raise ToolFailure("At least 2 readable images are needed to look for duplicates")

    # Single-linkage clustering: A~B and B~C put all three in one group.
    parent = list(range(len(hashed)))
    for i in range(len(hashed)):
        for j in range(i + 1, len(hashed)):
            if (hashed[i][1] ^ hashed[j][1]).bit_count() <= settings.threshold:
                parent[_root(parent, j)] = _root(parent, i)
    clusters: dict[int, list[int]] = {}
    for i in range(len(hashed)):
        clusters.setdefault(_root(parent, i), []).append(i)

    groups = []
    for members in (m for m in clusters.values() if len(m) > 1):
        # The keeper: most pixels, then the largest file.
        best = max(members, key=lambda i: (hashed[i][2] * hashed[i][3], hashed[i][0].size))
        files = []
        for i in members:
            source, value, width, height = hashed[i]
            distance = (value ^ hashed[best][1]).bit_count()
            files.append(
                {
                    "filename": source.name,
                    "hash": f"{value:032x}",
                    "distance": distance,
                    "similarity": round((1 - distance / HASH_BITS) * 100, 2),
                    "width": width,
                    "height": height,
                    "fileSize": source.size,
                    "format": source.kind,
                    "isBest": i == best,
                }
            )
        groups.append({"groupId": len(groups) + 1, "files": files})
    in_groups = sum(len(g["files"]) for g in groups)
    data = {
        "totalImages": len(hashed),
        "duplicateGroups": groups,
        "uniqueImages": len(hashed) - in_groups + len(groups),
        "spaceSaveable": sum(f["fileSize"] for g in groups for f in g["files"] if not f["isBest"]),
        "threshold": settings.threshold,
        "skippedFiles": skipped,
    }
    out = ctx.output_path("duplicates.json")
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    ctx.progress(100, "Done")
    return ToolResult([out], data)
