"""PDF OCR: a searchable PDF from scanned pages, by OCRmyPDF with Tesseract. The page images stay as
they are; an invisible text layer is laid over them. Pages that already have text are left alone.

language auto: Tesseract cannot guess a language by itself, so auto reads English, German, French
and Spanish together (the Latin-script languages installed here); pick zh, ja or ko for those scripts.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

from pydantic import Field

from app.engine.media import pdf
from app.engine.media.ocr import TESSERACT_LANGUAGES as LANGUAGES
from app.engine.media.pdf import PageSpec
from app.engine.pacing import Pacer
from app.engine.tool import Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

QUALITY_ARGS = {
    # fast: no image clean-up, no optimisation pass.
    "fast": ["--optimize", "0", "--tesseract-oem", "1"],
    # balanced: straighten skewed scans; lossless optimisation of the result.
    "balanced": ["--deskew", "--optimize", "1"],
    # best: also fix upside-down/sideways pages and read small print at a higher resolution.
    "best": ["--deskew", "--rotate-pages", "--oversample", "400", "--optimize", "1"],
}
TIMEOUT_S = 1800  # OCR of a long scan takes minutes; the job's limit, ocrmypdf's a little under it
# OCRmyPDF's exit codes that mean "the input", not "the server": bad args, bad PDF, encrypted.
_INPUT_CODES = {1: "these settings", 2: "the input is not a readable PDF", 8: "the PDF is encrypted"}


class OcrPdfSettings(ToolSettings):
    quality: Literal["fast", "balanced", "best"] = Field(
        "balanced", description="fast: just read; balanced: also straighten scans; best: also turn pages, finer read"
    )
    language: Literal["auto", "en", "de", "fr", "es", "zh", "ja", "ko"] = Field(
        "auto", description="Language of the text; auto reads English, German, French and Spanish"
    )
    pages: PageSpec | None = Field(None, description="Pages to read (qpdf syntax, e.g. 1-3,7); empty: all pages")


def _pages_read(scratch: Path) -> int:
    try:
        return sum(1 for _ in scratch.glob("ocrmypdf.io.*/*_ocr_tess.pdf"))
    except OSError:  # the folder is being cleaned up
        return 0


@tool(
    id="ocr-pdf",
    section="pdf",
    title="PDF OCR (AI)",
    description="Make scanned PDFs searchable: Tesseract OCR adds an invisible text layer over the page images.",
    settings=OcrPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
    long=True,
    timeout_s=TIMEOUT_S,
)
def run(ctx: ToolContext, settings: OcrPdfSettings) -> ToolResult:
    src = ctx.input
    count = pdf.check_input(src)
    chosen = sorted(set(pdf.parse_pages(settings.pages, count))) if settings.pages else None
    scratch = ctx.workdir / ".ocr"
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / "out.pdf"
    jobs = max(1, min(4, (os.cpu_count() or 2) // 2))
    cmd = ["ocrmypdf", "--skip-text", "--output-type", "pdf", "--jobs", str(jobs), "-l", LANGUAGES[settings.language],
           "--tesseract-timeout", "300", *QUALITY_ARGS[settings.quality]]  # fmt: skip
    if chosen is not None:
        cmd += ["--pages", pdf.ranges_text(chosen)]
    cmd += [str(src.path.resolve()), str(target)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch.resolve()), "LANG": "C.UTF-8",
           "TMPDIR": str(scratch.resolve()), "OMP_THREAD_LIMIT": "1"}  # fmt: skip
    pages = len(chosen) if chosen else count
    try:
        # OCRmyPDF writes NNNNNN_ocr_tess.pdf in its work folder as each page is read: counting them is
        # per-page progress from a program that reports none on a pipe.
        with Pacer(ctx, 5, 85, total=pages, label=lambda n, t: f"Reading page {n} of {t}",
                   poll=lambda: _pages_read(scratch)):  # fmt: skip
            code, _ = pdf.run_program(cmd, ctx, what="OCR", timeout_s=TIMEOUT_S - 30, cwd=scratch, env=env,
                                      ok_codes=(0, *_INPUT_CODES))  # fmt: skip
        ctx.progress(88, "Writing the searchable PDF")
        if code in _INPUT_CODES:
            raise ToolFailure(f"OCR could not run: {_INPUT_CODES[code]}")
        if not target.is_file():
            raise ToolFailure("OCR produced no output")
        out = ctx.output_path(f"{src.stem}_ocr.pdf")
        shutil.move(target, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    pdf.finish_output(out)
    ctx.progress(95, "Checking the text layer")
    text = pdf.pdftotext(ctx, out)
    return ToolResult([out], {"pages": count, "pagesRead": len(chosen) if chosen else count,
                              "language": LANGUAGES[settings.language], "characters": len(text.strip())})  # fmt: skip
