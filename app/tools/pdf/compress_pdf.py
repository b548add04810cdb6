"""Compress PDF: Ghostscript rewrites the file with images downsampled and re-encoded as JPEG, fonts
subset and duplicate images merged. Quality mode maps 1-100 to image resolution and JPEG quality;
targetSize mode searches for the highest quality whose file lands under the target, and says so when
even the smallest settings can't get there (a PDF of text and vector drawings barely shrinks)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from app.engine.media import pdf
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

KB = 1000  # decimal kilobytes, as the image compress tool: under N*1000 bytes is also under N KiB
_TOP_QUALITY = 85  # the first try in targetSize mode: good enough that going higher rarely matters
_SEARCH_ROUNDS = 5


class CompressPdfSettings(ToolSettings):
    mode: Literal["quality", "targetSize"] = Field(
        "quality", description="quality: compress at `quality`; targetSize: the best quality under `targetSizeKb`"
    )
    quality: int = Field(
        60, ge=1, le=100, description="1 (smallest) to 100 (best): image resolution 40-300 dpi and JPEG quality"
    )
    targetSizeKb: float | None = Field(
        None, gt=0, le=10_000_000, description="Target size in kilobytes (1 KB = 1000 bytes); needed for targetSize"
    )

    @model_validator(mode="after")
    def _target_given(self) -> CompressPdfSettings:
        if self.mode == "targetSize" and self.targetSizeKb is None:
            raise ValueError("targetSizeKb is required when mode is targetSize")
        return self


def image_dpi(quality: int) -> int:
    return round(40 + 260 * (quality / 100) ** 1.5)


def _qfactor(quality: int) -> float:
    # Distiller's JPEG QFactor: 0.15 is Acrobat's "maximum" quality, 0.76 its "medium" (/screen).
    return round(0.08 + 1.9 * (1 - quality / 100) ** 1.5, 3)


def gs_args(quality: int) -> tuple[list[str], str]:
    dpi = image_dpi(quality)
    args = [
        "-dCompatibilityLevel=1.6",
        "-dDetectDuplicateImages=true",
        "-dCompressFonts=true",
        "-dSubsetFonts=true",
        "-dPassThroughJPEGImages=false",
        "-dPassThroughJPXImages=false",
    ]
    for kind in ("Color", "Gray"):
        args += [
            f"-dDownsample{kind}Images=true",
            f"-d{kind}ImageDownsampleType=/Bicubic",
            f"-d{kind}ImageResolution={dpi}",
            f"-d{kind}ImageDownsampleThreshold=1.0",
            f"-dAutoFilter{kind}Images=false",
            f"-d{kind}ImageFilter=/DCTEncode",
        ]
    args += ["-dDownsampleMonoImages=true", f"-dMonoImageResolution={max(150, 2 * dpi)}"]
    q = _qfactor(quality)
    jpeg = f"<< /QFactor {q} /Blend 1 /HSamples [2 1 1 2] /VSamples [2 1 1 2] >>"
    dicts = " ".join(f"/{k}{a}ImageDict {jpeg}" for k in ("Color", "Gray") for a in ("", "ACS"))
    return args, f"<< {dicts} >> setdistillerparams"


def _compress(ctx: ToolContext, source: Path, quality: int, tag: str) -> Path:
    out = ctx.workdir / f".try-{tag}.pdf"
    args, ps = gs_args(quality)
    pdf.ghostscript(ctx, source, out, args, postscript=ps, what="Compression")
    return pdf.finish_output(out)


@tool(
    id="compress-pdf",
    section="pdf",
    title="Compress PDF",
    description="Shrink a PDF: images downsampled and re-encoded, fonts subset. By quality, or under a target size.",
    settings=CompressPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
    long=True,
)
def run(ctx: ToolContext, settings: CompressPdfSettings) -> ToolResult:
    src = ctx.input
    pdf.check_input(src)
    out = ctx.output_path(f"{src.stem}_compressed.pdf")
    data: dict[str, Any] = {"mode": settings.mode}
    ctx.progress(5, "Compressing")

    if settings.mode == "quality":
        tried = _compress(ctx, src.path, settings.quality, "q")
        kept = tried.stat().st_size >= src.size
        # Already tight (text only, or compressed before): the original is the better answer.
        if kept:
            shutil.copyfile(src.path, out)
            pdf.finish_output(out)
            tried.unlink()
        else:
            tried.replace(out)
        data.update(quality=settings.quality, imageDpi=image_dpi(settings.quality), keptOriginal=kept)
        return ToolResult([out], data)

    assert settings.targetSizeKb is not None
    target = int(settings.targetSizeKb * KB)
    data["targetSizeKb"] = settings.targetSizeKb
    top = settings.quality if "quality" in settings.model_fields_set else _TOP_QUALITY
    results: dict[int, Path] = {}

    def attempt(q: int) -> int:
        ctx.check_cancelled()
        results[q] = _compress(ctx, src.path, q, str(q))
        ctx.progress(min(90, 10 + 15 * len(results)), "Searching for the best quality under the target")
        return results[q].stat().st_size

    best: int | None = None
    if attempt(top) <= target:
        best = top
    elif attempt(1) <= target:
        best, low, high = 1, 1, top  # low fits, high doesn't: bisect between them
        for _ in range(_SEARCH_ROUNDS):
            if high - low <= 1:
                break
            mid = (low + high) // 2
            if attempt(mid) <= target:
                best, low = mid, mid
            else:
                high = mid
    if best is not None:
        results[best].replace(out)
        data.update(quality=best, targetReached=True, imageDpi=image_dpi(best))
    else:
        smallest = min(results, key=lambda q: results[q].stat().st_size)
        results[smallest].replace(out)
        data.update(
            quality=smallest,
            targetReached=False,
            imageDpi=image_dpi(smallest),
            message=(
                f"Could not get under {settings.targetSizeKb:g} KB: the smallest result is "
                f"{out.stat().st_size / KB:.1f} KB (text, fonts and vector drawings don't shrink further)"
            ),
        )
    for path in results.values():
        path.unlink(missing_ok=True)
    data.update(achievedSizeKb=round(out.stat().st_size / KB, 1), keptOriginal=False)
    return ToolResult([out], data)
